import { connect } from 'node:net';
import { Agent, request } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The echo backend's JSON answer, when the body is JSON. */
  json: <T = EchoBody>() => T;
}

export interface EchoBody {
  server: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

/** One real HTTP request over a socket to the gateway; `from` binds the client socket to that address. */
export async function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Answer> {
  const dispatcher = options.from ? fromAddress(options.from) : undefined;
  try {
    const res = await request(url, {
      method: (options.method ?? 'GET') as 'GET',
      headers: options.headers,
      body: options.body,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
  } finally {
    await dispatcher?.close();
  }
}

/** An undici agent whose sockets leave from `localAddress` (undici's own connector ignores that option). */
function fromAddress(localAddress: string): Agent {
  return new Agent({
    connect: (opts, done) => {
      const socket = connect({
        host: opts.hostname.replace(/^\[|\]$/g, ''),
        port: Number(opts.port),
        localAddress,
      });
      socket.once('connect', () => done(null, socket));
      socket.once('error', (err) => done(err, null));
      return socket;
    },
  });
}
