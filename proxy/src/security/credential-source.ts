import type { IncomingMessage } from 'node:http';
import type { CredentialSource } from '../config/security.ts';
import type { RequestView } from '../routing/request-view.ts';

/** A credential found in a request, and how to take it out before the request goes upstream. */
export interface FoundCredential {
  value: string;
  remove(): void;
}

/**
 * The first credential the sources name, looked for in order: header values (after an optional
 * prefix such as `Bearer `), query parameters, cookies. An empty value counts as none.
 */
export function findCredential(
  raw: IncomingMessage,
  view: RequestView,
  sources: readonly CredentialSource[],
): FoundCredential | undefined {
  for (const source of sources) {
    for (const { name, valuePrefix } of source.headers ?? []) {
      const header = name.toLowerCase();
      const value = firstValue(raw.headers[header]);
      if (value === undefined) continue;
      const prefix = valuePrefix ?? '';
      if (!value.toLowerCase().startsWith(prefix.toLowerCase())) continue;
      const credential = value.slice(prefix.length).trim();
      if (credential !== '') return { value: credential, remove: () => delete raw.headers[header] };
    }
    for (const param of source.params ?? []) {
      if (view.rawQuery === '') break;
      const query = new URLSearchParams(view.rawQuery);
      const value = query.get(param);
      if (!value) continue;
      return {
        value,
        remove: () => {
          query.delete(param);
          view.rawQuery = query.toString();
          view.query = undefined;
        },
      };
    }
    for (const cookie of source.cookies ?? []) {
      const header = firstValue(raw.headers.cookie);
      if (header === undefined) break;
      const pairs = header.split(';').map((p) => p.trim());
      const at = pairs.findIndex((p) => p.startsWith(`${cookie}=`));
      const value = at === -1 ? '' : pairs[at]!.slice(cookie.length + 1);
      if (value === '') continue;
      return {
        value: decodeCookie(value),
        remove: () => {
          const rest = pairs.filter((_, i) => i !== at);
          if (rest.length === 0) delete raw.headers.cookie;
          else raw.headers.cookie = rest.join('; ');
        },
      };
    }
  }
  return undefined;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function decodeCookie(value: string): string {
  const unquoted =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted;
  }
}
