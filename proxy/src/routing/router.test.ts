import { describe, expect, it } from 'vitest';
import type { Listener, Route } from '../config/schema.ts';
import { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { requestView } from './request-view.ts';
import { ListenerRouter } from './router.ts';

let n = 0;
function route(
  match: Partial<Route['match']> & Pick<Route['match'], 'path'>,
  extra: Partial<Route> = {},
): Route {
  const i = n++;
  return {
    name: `httproute/default/r/rule/${i}/match/0`,
    ref: { kind: 'HTTPRoute', namespace: 'default', name: 'r', rule: i },
    match: { headers: [], queryParams: [], ...match },
    mirrors: [],
    backends: [],
    ...extra,
  };
}

function router(virtualHosts: Listener['virtualHosts']): ListenerRouter {
  const listener = { name: 'l', port: 8080, protocol: 'HTTP', virtualHosts } as Listener;
  return new ListenerRouter(listener, new Map(), new Map(), new ProxyMetrics());
}

const pick = (r: ListenerRouter, host: string | undefined, url: string, headers = {}, method = 'GET') =>
  r.select(host, requestView(method, url, headers))?.name;

describe('ListenerRouter', () => {
  const exact = route({ path: { type: 'Exact', value: '/exact' } });
  const prefix = route({ path: { type: 'PathPrefix', value: '/api/' } });
  const regex = route({ path: { type: 'RegularExpression', value: '/v[0-9]+/items' } });
  const header = route({
    path: { type: 'PathPrefix', value: '/' },
    headers: [{ type: 'RegularExpression', name: 'X-Tier', value: 'gold|platinum' }],
  });
  const query = route({
    path: { type: 'PathPrefix', value: '/' },
    queryParams: [{ type: 'Exact', name: 'debug', value: '1' }],
  });
  const post = route({ path: { type: 'PathPrefix', value: '/' }, method: 'POST' });
  const wildcard = route({ path: { type: 'PathPrefix', value: '/' } });
  const fallback = route({ path: { type: 'PathPrefix', value: '/' } });
  const r = router([
    { hostname: 'app.example', routes: [exact, prefix, regex, header, query, post] },
    { hostname: '*.example', routes: [wildcard] },
    { hostname: '*', routes: [fallback] },
  ]);

  it('matches Exact whole paths, PathPrefix by segment and RegularExpression as a full match', () => {
    expect(pick(r, 'app.example', '/exact')).toBe(exact.name);
    expect(pick(r, 'app.example', '/exact/more')).not.toBe(exact.name);
    expect(pick(r, 'app.example', '/api')).toBe(prefix.name);
    expect(pick(r, 'app.example', '/api/users')).toBe(prefix.name);
    expect(pick(r, 'app.example', '/apiary')).not.toBe(prefix.name);
    expect(pick(r, 'app.example', '/v2/items')).toBe(regex.name);
    expect(pick(r, 'app.example', '/v2/items/1')).not.toBe(regex.name);
  });

  it('matches headers case-insensitively by name, queries by parameter and the method', () => {
    expect(pick(r, 'app.example', '/x', { 'x-tier': 'gold' })).toBe(header.name);
    expect(pick(r, 'app.example', '/x', { 'x-tier': 'golden' })).not.toBe(header.name);
    expect(pick(r, 'app.example', '/x?debug=1')).toBe(query.name);
    expect(pick(r, 'app.example', '/x?debug=2')).toBeUndefined();
    expect(pick(r, 'app.example', '/x', {}, 'POST')).toBe(post.name);
  });

  it('picks the virtual host by Host: exact, then the longest wildcard, then any; ports ignored', () => {
    expect(pick(r, 'APP.example:8080', '/exact')).toBe(exact.name);
    expect(pick(r, 'shop.example', '/exact')).toBe(wildcard.name);
    // A wildcard covers subdomains, not the bare domain.
    expect(pick(r, 'example', '/exact')).toBe(fallback.name);
    expect(pick(r, undefined, '/exact')).toBe(fallback.name);
  });

  it('takes the first matching route in the order the translator sorted them', () => {
    const first = route({ path: { type: 'PathPrefix', value: '/' } });
    const second = route({ path: { type: 'PathPrefix', value: '/' } });
    expect(pick(router([{ hostname: '*', routes: [first, second] }]), 'h', '/')).toBe(first.name);
  });
});
