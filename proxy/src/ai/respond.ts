import type { ServerResponse } from 'node:http';
import { type ErrorCode, errorBody, errorCatalog } from '../errors/catalog.ts';

export type HeaderRecord = Record<string, string>;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: HeaderRecord = {},
): void {
  sendText(res, status, JSON.stringify(body), headers);
}

/** A catalog error, with a specific message and parameter when there is one. */
export function sendCatalogError(
  res: ServerResponse,
  code: ErrorCode,
  options: { message?: string; param?: string; headers?: HeaderRecord; status?: number } = {},
): void {
  sendText(
    res,
    options.status ?? errorCatalog[code].status,
    errorBody(code, options.message, options.param),
    options.headers ?? {},
  );
}

function sendText(res: ServerResponse, status: number, text: string, headers: HeaderRecord): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
