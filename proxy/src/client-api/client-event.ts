/**
 * One event for the client: its `data:` text and, when the converter parsed or built it, the chunk
 * object itself, so later steps (response masking) need not parse the same JSON again.
 */
export interface ClientEvent {
  data: string;
  /** The SSE event name, for APIs that name their events (a passed-through Responses stream). */
  event?: string;
  chunk?: Record<string, unknown>;
}
