import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeRest } from '../../../../lib/src/kubernetes/kube-rest.ts';
import { ReferencedObjects } from './referenced-objects.ts';
import { WATCHED_KINDS } from './watched-kinds.ts';

/**
 * Reading referenced Secrets against an API endpoint that answers what the test says, as an API
 * server does on a bad day (the normal path runs against a real kube-apiserver in the operator's
 * end-to-end tests): every read is counted, so a read that should not happen fails the test.
 */
const secrets = WATCHED_KINDS.find((k) => k.kind === 'Secret' && k.contentWhenReferenced)!;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

interface Answer {
  status: number;
  version?: string;
  value?: string;
  /** The Secret's data as sent, instead of `value` encoded. */
  data?: Record<string, string>;
}

async function apiServer(answer: (name: string) => Answer) {
  const reads: string[] = [];
  const server = createServer((req, res) => {
    const name = (req.url ?? '').split('/').at(-1)!;
    reads.push(name);
    const { status, version, value, data } = answer(name);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        status === 200
          ? {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name, namespace: 'ns', resourceVersion: version },
              data: data ?? { 'api-key': Buffer.from(value ?? '').toString('base64') },
            }
          : { kind: 'Status', code: status, reason: String(status) },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rest = new KubeRest({
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: async () => ({ headers: {} }),
  });
  close = async () => {
    await rest.close();
    await new Promise((r) => server.close(r));
  };
  return { objects: new ReferencedObjects(secrets, rest, pino({ level: 'silent' })), reads };
}

const names = (objects: { metadata: { name: string } }[]) => objects.map((o) => o.metadata.name);

describe('ReferencedObjects: the content of referenced Secrets, read on demand', () => {
  it('reads each referenced Secret once per resourceVersion, and nothing unreferenced', async () => {
    let version = '1';
    const { objects, reads } = await apiServer(() => ({ status: 200, version, value: `key-${version}` }));
    for (const name of ['a', 'b', 'unreferenced']) objects.put(`ns/${name}`, '1');
    expect(names(await objects.read(new Set(['ns/a', 'ns/b'])))).toEqual(['a', 'b']);
    expect(names(await objects.read(new Set(['ns/a', 'ns/b'])))).toEqual(['a', 'b']);
    expect(reads.sort()).toEqual(['a', 'b']);
    // The watch shows a new version of a: only a is read again, and its new value is what is held.
    version = '2';
    expect(objects.put('ns/a', '2')).toBe(true);
    expect(objects.put('ns/unreferenced', '2')).toBe(false);
    const [a] = await objects.read(new Set(['ns/a']));
    expect(Buffer.from((a!.data as Record<string, string>)['api-key']!, 'base64').toString()).toBe('key-2');
    expect(reads.sort()).toEqual(['a', 'a', 'b']);
  });

  it('reads a referenced Secret that does not exist as missing, without asking for it', async () => {
    const { objects, reads } = await apiServer(() => ({ status: 200, version: '1' }));
    expect(await objects.read(new Set(['ns/not-there']))).toEqual([]);
    expect(reads).toEqual([]);
    // It appears: the change matters, and the next read fetches it.
    expect(objects.put('ns/not-there', '1')).toBe(true);
    expect(names(await objects.read(new Set(['ns/not-there'])))).toEqual(['not-there']);
  });

  it('takes a Secret deleted between the watch and the read (404) as missing', async () => {
    const { objects } = await apiServer(() => ({ status: 404 }));
    objects.put('ns/gone', '1');
    expect(await objects.read(new Set(['ns/gone']))).toEqual([]);
  });

  it('fails the read when the API server fails, instead of translating without the Secret', async () => {
    let status = 500;
    const { objects } = await apiServer(() => ({ status, version: '1', value: 'k' }));
    objects.put('ns/flaky', '1');
    await expect(objects.read(new Set(['ns/flaky']))).rejects.toThrow(/500/);
    status = 200;
    expect(names(await objects.read(new Set(['ns/flaky'])))).toEqual(['flaky']);
  });

  it('reads a Secret it may not read (403) as missing, so only what names it is affected', async () => {
    const { objects } = await apiServer((name) =>
      name === 'forbidden' ? { status: 403 } : { status: 200, version: '1', value: 'k' },
    );
    objects.put('ns/forbidden', '1');
    objects.put('ns/allowed', '1');
    expect(names(await objects.read(new Set(['ns/forbidden', 'ns/allowed'])))).toEqual(['allowed']);
  });

  it('reads a Secret that fails validation once per resourceVersion, not on every translation', async () => {
    let data: Record<string, string> = { 'api-key': 'not base64!' };
    const { objects, reads } = await apiServer(() => ({ status: 200, version: '1', data }));
    objects.put('ns/broken', '1');
    expect(await objects.read(new Set(['ns/broken']))).toEqual([]);
    expect(await objects.read(new Set(['ns/broken']))).toEqual([]);
    expect(reads).toEqual(['broken']);
    // Fixed: a new version is read, and held.
    data = { 'api-key': 'c2stb2s=' };
    objects.put('ns/broken', '2');
    expect(names(await objects.read(new Set(['ns/broken'])))).toEqual(['broken']);
  });

  it('drops the content of a Secret nothing references any more, and of one deleted', async () => {
    const { objects, reads } = await apiServer(() => ({ status: 200, version: '1', value: 'k' }));
    objects.put('ns/a', '1');
    objects.put('ns/b', '1');
    await objects.read(new Set(['ns/a', 'ns/b']));
    await objects.read(new Set(['ns/a']));
    expect(objects.delete('ns/a')).toBe(true);
    expect(await objects.read(new Set(['ns/a', 'ns/b']))).toHaveLength(1);
    // b was dropped when unreferenced: named again, it is read again.
    expect(reads.sort()).toEqual(['a', 'b', 'b']);
  });
});
