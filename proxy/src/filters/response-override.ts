import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { ResponseOverride } from '../config/traffic.ts';
import type { HeaderBag, HeaderEdit } from './header-modifier.ts';

/** The answer the gateway sends instead of one with a matching status. */
export interface Replacement {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A route's response overrides, compiled once into a table by status (100–599), so the hot path is
 * one array read. The first entry that names a status wins, as Envoy Gateway orders them.
 */
export function compileOverrides(entries: ResponseOverride): (status: number) => Replacement | undefined {
  const table: (Replacement | undefined)[] = new Array(600);
  for (const entry of entries) {
    const body = Buffer.from(entry.body);
    for (const { start, end } of entry.statuses)
      for (let status = start; status <= end; status++)
        table[status] ??= {
          status: entry.status ?? status,
          headers: {
            'content-type': entry.contentType ?? 'text/plain; charset=utf-8',
            'content-length': String(body.length),
          },
          body,
        };
  }
  return (status) => table[status];
}

/** Sends a replacement, through the route's response header filter like any answer of the route. */
export function writeReplacement(
  res: ServerResponse | Http2ServerResponse,
  replacement: Replacement,
  editHeaders: HeaderEdit | undefined,
): void {
  const headers: HeaderBag = { ...replacement.headers };
  editHeaders?.(headers);
  (res as ServerResponse)
    .writeHead(replacement.status, headers as Record<string, string>)
    .end(replacement.body);
}
