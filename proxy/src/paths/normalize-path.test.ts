import { describe, expect, it } from 'vitest';
import { normalizePath } from './normalize-path.ts';

describe('normalizePath', () => {
  const table: [string, string | undefined][] = [
    ['/', '/'],
    ['/plain/path', '/plain/path'],
    ['/trailing/', '/trailing/'],
    ['//double//slashes', '/double/slashes'],
    ['///', '/'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/public/../private', '/private'],
    ['/public/%2e%2e/private', '/private'],
    ['/public/%2E%2e/private', '/private'],
    ['/public/.%2e/private', '/private'],
    ['/public%2F..%2Fprivate', '/public%2F..%2Fprivate'],
    ['/public%2f..%2fprivate', '/public%2F..%2Fprivate'],
    ['/a%5cb', '/a%5Cb'],
    ['/%7Euser/%41%42c', '/~user/ABc'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/space%20here', '/space%20here'],
    ['/.well-known/acme', '/.well-known/acme'],
    ['/a/...', '/a/...'],
    ['/bad%zz', undefined],
    ['/bad%4', undefined],
    ['/bad%', undefined],
    ['relative', undefined],
    ['/public//../private', '/private'],
    ['/x/%2e/y', '/x/y'],
  ];
  for (const [input, expected] of table)
    it(`${input} → ${expected ?? 'invalid'}`, () => {
      expect(normalizePath(input)).toBe(expected);
    });

  it('is idempotent', () => {
    for (const [input] of table) {
      const once = normalizePath(input);
      if (once !== undefined) expect(normalizePath(once)).toBe(once);
    }
  });
});
