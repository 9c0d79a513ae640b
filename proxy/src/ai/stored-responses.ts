import type { ClientEvent } from '../client-api/client-event.ts';

/**
 * Responses stored by a provider (OpenAI's Responses API with `store`, `previous_response_id`,
 * `background`) live at the one target that answered: another target, even another key of the same
 * provider, does not know them. So the id a client sees names that target, and the model it asked
 * for (which picks the route again): `resp_sluice_` + base64url of `[model, target, provider id]`.
 * A follow-up (`previous_response_id`), a retrieval, a deletion or a cancel then goes to that target,
 * from any replica, with no state kept in the gateway.
 */
const PREFIX = 'resp_sluice_';

export interface StoredResponseRef {
  /** The model the client named, which routes the follow-up as it routed the first request. */
  model: string;
  /** The AI backend (`namespace/name`) and its target that stored it. */
  backend: string;
  target: string;
  /** The provider's own id. */
  id: string;
}

export function storedResponseId(ref: StoredResponseRef): string {
  return (
    PREFIX + Buffer.from(JSON.stringify([ref.model, ref.backend, ref.target, ref.id])).toString('base64url')
  );
}

/** The reference in an id this gateway issued; undefined for any other string. */
export function parseStoredResponseId(id: string): StoredResponseRef | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  try {
    const parts: unknown = JSON.parse(Buffer.from(id.slice(PREFIX.length), 'base64url').toString('utf8'));
    if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((p) => typeof p === 'string' && p))
      return undefined;
    const [model, backend, target, providerId] = parts as [string, string, string, string];
    return { model, backend, target, id: providerId };
  } catch {
    return undefined;
  }
}

/** A provider's Response object (or deletion answer) with its id as the client must see it. */
export function withStoredId(body: Record<string, unknown>, at: Omit<StoredResponseRef, 'id'>): void {
  if (typeof body.id === 'string' && body.id !== '') body.id = storedResponseId({ ...at, id: body.id });
}

/**
 * The ids in a passed-through Responses event stream: the provider's response id first appears in
 * `response.created` (or `response.queued`); from then on it is replaced wherever it is a whole JSON
 * string in an event's text, which is cheaper than parsing and re-serialising each delta (an id is
 * JSON-safe and random, so its quoted form matches nothing else; an item id that merely contains it
 * is not touched).
 */
export function storedIdRewriter(at: Omit<StoredResponseRef, 'id'>): (event: ClientEvent) => ClientEvent {
  let from: string | undefined;
  let to = '';
  return (event) => {
    if (from === undefined) {
      const id = (event.chunk?.response as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string' || id === '') return event;
      from = JSON.stringify(id);
      to = JSON.stringify(storedResponseId({ ...at, id }));
    }
    return event.data.includes(from) ? { ...event, data: event.data.replaceAll(from, to) } : event;
  };
}
