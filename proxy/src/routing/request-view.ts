import type { IncomingHttpHeaders } from 'node:http';

/** What route matching looks at; the query string is parsed only if a route asks for it. */
export interface RequestView {
  method: string;
  path: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  query?: URLSearchParams;
}

export function requestView(method: string, url: string, headers: IncomingHttpHeaders): RequestView {
  const q = url.indexOf('?');
  return q === -1
    ? { method, path: url, rawQuery: '', headers }
    : { method, path: url.slice(0, q), rawQuery: url.slice(q + 1), headers };
}

export function queryOf(req: RequestView): URLSearchParams {
  req.query ??= new URLSearchParams(req.rawQuery);
  return req.query;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
