import type { ServerResponse } from 'node:http';

export type HeaderRecord = Record<string, string>;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: HeaderRecord = {},
): void {
  sendText(res, status, JSON.stringify(body), headers);
}

/** A JSON text already serialised (a provider's answer passed on as it came). */
export function sendText(res: ServerResponse, status: number, text: string, headers: HeaderRecord): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
