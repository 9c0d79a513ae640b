import type { PathMatch, RouteMatch, ValueMatch } from '../config/schema.ts';
import { compileUserRegex } from '../config/user-regex.ts';
import { trimTrailingSlash } from '../paths/trim-trailing-slash.ts';
import { headerValue, queryOf, type RequestView } from './request-view.ts';

export type Predicate = (req: RequestView) => boolean;

/** Turns a route's match into one predicate, with every regex compiled here rather than per request. */
export function compileMatch(match: RouteMatch): Predicate {
  const checks: Predicate[] = [compilePath(match.path)];
  const method = match.method;
  if (method !== undefined) checks.push((req) => req.method === method);
  for (const h of match.headers) {
    const name = h.name.toLowerCase();
    const test = compileValue(h);
    checks.push((req) => test(headerValue(req.headers, name)));
  }
  for (const q of match.queryParams) {
    const test = compileValue(q);
    checks.push((req) => test(queryOf(req).get(q.name) ?? undefined));
  }
  if (checks.length === 1) return checks[0]!;
  return (req) => {
    for (const check of checks) if (!check(req)) return false;
    return true;
  };
}

export function compilePath(path: PathMatch): Predicate {
  switch (path.type) {
    case 'Exact': {
      const value = path.value;
      return (req) => req.path === value;
    }
    case 'PathPrefix': {
      const prefix = trimTrailingSlash(path.value);
      if (prefix === '') return () => true;
      const withSlash = `${prefix}/`;
      // Segment-aware: /foo matches /foo and /foo/bar, never /foobar.
      return (req) => req.path === prefix || req.path.startsWith(withSlash);
    }
    case 'RegularExpression': {
      const re = compileUserRegex(path.value);
      return (req) => re.matches(req.path);
    }
  }
}

function compileValue(m: ValueMatch): (value: string | undefined) => boolean {
  if (m.type === 'Exact') {
    const expected = m.value;
    return (value) => value === expected;
  }
  const re = compileUserRegex(m.value);
  // RE2 `matches` is a whole-input match, as the Gateway API's RegularExpression matches are here.
  return (value) => value !== undefined && re.matches(value);
}
