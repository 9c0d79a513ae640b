import type { Serializable } from 'node:child_process';

/**
 * Request and reply over a Node IPC channel (a cluster worker's `process`, or the primary's `Worker`):
 * the workers of one pod ask the primary for shared counters, and the primary asks each worker for
 * its readiness and metrics. Messages are tagged so they never mix with other users of the channel
 * (prom-client, cluster's own).
 */
export interface IpcChannel {
  /** Absent on a process started without an IPC channel. */
  send?: ((message: Serializable) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  isConnected?(): boolean;
  connected?: boolean;
}

type Handler = (args: unknown) => unknown;

interface Call {
  sluice: 'call';
  id: number;
  method: string;
  args: unknown;
}

interface Reply {
  sluice: 'reply';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function isCall(m: unknown): m is Call {
  return typeof m === 'object' && m !== null && (m as Call).sluice === 'call';
}

function isReply(m: unknown): m is Reply {
  return typeof m === 'object' && m !== null && (m as Reply).sluice === 'reply';
}

export class IpcPeer {
  readonly #channel: IpcChannel;
  readonly #handlers = new Map<string, Handler>();
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 0;

  constructor(channel: IpcChannel) {
    this.#channel = channel;
    channel.on('message', (message) => {
      if (isReply(message)) this.#settle(message);
      else if (isCall(message)) void this.#answer(message);
    });
  }

  /** Serves `method` for the other side; the handler's value (or promise) is the reply. */
  handle(method: string, handler: Handler): void {
    this.#handlers.set(method, handler);
  }

  /** Calls `method` on the other side; rejects after `timeoutMs` or when the channel is closed. */
  call(method: string, args: unknown, timeoutMs = 5_000): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.#send({ sluice: 'call', id, method, args } satisfies Call))
        this.#settle({ sluice: 'reply', id, ok: false, error: `${method}: the channel is closed` });
    });
  }

  /** Fails every call still waiting (the other side is gone). */
  closed(): void {
    for (const [id] of this.#waiting)
      this.#settle({ sluice: 'reply', id, ok: false, error: 'the other process is gone' });
  }

  #send(message: Call | Reply): boolean {
    const c = this.#channel;
    if (c.isConnected ? !c.isConnected() : c.connected === false) return false;
    try {
      // false only means Node queued the message behind others: it is still delivered.
      if (!c.send) return false;
      c.send(message as unknown as Serializable);
      return true;
    } catch {
      return false;
    }
  }

  #settle(reply: Reply): void {
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return;
    this.#waiting.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(reply.error ?? 'failed'));
  }

  async #answer(call: Call): Promise<void> {
    const handler = this.#handlers.get(call.method);
    let reply: Reply;
    try {
      if (!handler) throw new Error(`no handler for ${call.method}`);
      reply = { sluice: 'reply', id: call.id, ok: true, value: await handler(call.args) };
    } catch (err) {
      reply = { sluice: 'reply', id: call.id, ok: false, error: (err as Error).message };
    }
    this.#send(reply);
  }
}
