export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Incremental Server-Sent Events parser. Network chunks split lines and events anywhere; this keeps
 * the unfinished tail and returns only complete events.
 */
export class SseParser {
  #buffer = '';
  #event: string | undefined;
  #data: string[] = [];
  readonly #decoder = new TextDecoder();

  push(chunk: Uint8Array): SseEvent[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = this.#buffer.indexOf('\n', start);
      if (nl === -1) break;
      let line = this.#buffer.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.#data.length > 0 || this.#event !== undefined)
          events.push({ event: this.#event, data: this.#data.join('\n') });
        this.#event = undefined;
        this.#data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'data') this.#data.push(value);
      else if (field === 'event') this.#event = value;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }
}

export function sseData(payload: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}
