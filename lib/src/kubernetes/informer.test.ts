import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer, type WatchedObject } from './informer.ts';
import { KubeRest } from './kube-rest.ts';

/**
 * The informer against an API endpoint that misbehaves on purpose, as an API server does on a bad
 * day: a watch answered with 410 Gone, a stream cut in the middle of an event, an error status, a
 * list split into pages. (The normal path runs against a real kube-apiserver in the operator's
 * tests.) Each test scripts the answers to the list and watch requests it expects.
 */
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const obj = (name: string, rv: string): WatchedObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function apiServer(handlers: Handler[]): Promise<{ rest: KubeRest; requests: URL[] }> {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    requests.push(url);
    const handler = handlers.shift();
    if (!handler) return; // nothing scripted: hang, as a stalled watch does
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  const rest = new KubeRest({
    server: `http://127.0.0.1:${port}`,
    credentials: async () => ({ headers: {} }),
  });
  return { rest, requests };
}

const list =
  (items: WatchedObject[], rv: string, next?: string): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ items, metadata: { resourceVersion: rv, ...(next ? { continue: next } : {}) } }),
    );
  };

function record(informer: Informer<WatchedObject>): string[] {
  const events: string[] = [];
  for (const type of ['add', 'update', 'delete'] as const)
    informer.on(type, (o) => events.push(`${type} ${o.metadata.name}`));
  return events;
}

const logger = pino({ level: 'silent' });

describe('Informer (list, then watch) against a misbehaving API endpoint', () => {
  it('lists page by page, then reports watch events in order from the list resourceVersion', async () => {
    const { rest, requests } = await apiServer([
      list([obj('a', '1')], '5', 'page-2'),
      list([obj('b', '2')], '5'),
      (_req, res) => {
        res.writeHead(200);
        res.write(line('ADDED', obj('c', '6')) + line('MODIFIED', obj('a', '7')));
        res.write(line('BOOKMARK', { metadata: { resourceVersion: '8' } }));
        res.end(line('DELETED', obj('b', '9')));
      },
    ]);
    const informer = new Informer<WatchedObject>(rest, { path: '/api/v1/configmaps', what: {}, logger });
    const events = record(informer);
    await informer.start();
    expect(events).toEqual(['add a', 'add b']);
    await vi.waitFor(() => expect(events).toHaveLength(5));
    expect(events.slice(2)).toEqual(['add c', 'update a', 'delete b']);
    expect(requests[0]!.searchParams.get('limit')).toBe('500');
    expect(requests[1]!.searchParams.get('continue')).toBe('page-2');
    expect(requests[2]!.searchParams.get('resourceVersion')).toBe('5');
    // The watch the server ended is resumed from the last version seen (here a deletion's).
    await vi.waitFor(() => expect(requests[3]?.searchParams.get('resourceVersion')).toBe('9'));
    await informer.stop();
  });

  it('lists and watches metadata only when asked, taking an empty list with null items as empty', async () => {
    const accepts: (string | undefined)[] = [];
    const { rest } = await apiServer([
      (req, res) => {
        accepts.push(req.headers.accept);
        res.writeHead(200, { 'content-type': 'application/json' });
        // What kube-apiserver answers for a PartialObjectMetadataList with nothing in it.
        res.end(
          JSON.stringify({
            kind: 'PartialObjectMetadataList',
            items: null,
            metadata: { resourceVersion: '4' },
          }),
        );
      },
      (req, res) => {
        accepts.push(req.headers.accept);
        res.writeHead(200);
        res.write(line('ADDED', obj('a', '5')));
      },
    ]);
    const informer = new Informer<WatchedObject>(rest, {
      path: '/api/v1/secrets',
      metadataOnly: true,
      what: {},
      logger,
    });
    const events = record(informer);
    await informer.start();
    await vi.waitFor(() => expect(events).toEqual(['add a']));
    expect(accepts).toEqual([
      'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    ]);
    await informer.stop();
  });

  it('relists after 410 Gone and reports what changed meanwhile, deletions included', async () => {
    const { rest } = await apiServer([
      list([obj('a', '1'), obj('b', '1')], '3'),
      (_req, res) => {
        res.writeHead(200);
        res.end(
          line('ERROR', {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          }),
        );
      },
      list([obj('a', '1'), obj('c', '4')], '9'),
    ]);
    const informer = new Informer<WatchedObject>(rest, { path: '/api/v1/configmaps', what: {}, logger });
    const events = record(informer);
    await informer.start();
    // a did not change (same resourceVersion): nothing is said of it again.
    await vi.waitFor(() => expect(events).toEqual(['add a', 'add b', 'add c', 'delete b']));
    await informer.stop();
  });

  it('survives a stream cut in the middle of an event and an error status, resuming where it was', async () => {
    const { rest, requests } = await apiServer([
      list([], '1'),
      (_req, res) => {
        res.writeHead(200);
        res.write(`${line('ADDED', obj('a', '2'))}{"type":"ADDED","obj`);
        setTimeout(() => res.socket?.destroy(), 20);
      },
      (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 500, message: 'etcd is sad' }));
      },
      (_req, res) => {
        res.writeHead(200);
        res.end(line('ADDED', obj('b', '3')));
      },
    ]);
    const informer = new Informer<WatchedObject>(rest, { path: '/api/v1/configmaps', what: {}, logger });
    const events = record(informer);
    await informer.start();
    await vi.waitFor(() => expect(events).toEqual(['add a', 'add b']), { timeout: 5000 });
    // Every retry resumed from the last complete event, never from the start.
    expect(requests.slice(2, 4).map((u) => u.searchParams.get('resourceVersion'))).toEqual(['2', '2']);
    await informer.stop();
  });

  it('gives up on a watch that goes silent without closing (a half-dead connection) and resumes', async () => {
    const { rest, requests } = await apiServer([
      list([], '1'),
      (_req, res) => {
        res.writeHead(200);
        res.write(line('ADDED', obj('a', '2')));
        // Then nothing, and the connection stays open: no FIN, no bookmark, no timeout from the server.
      },
      (_req, res) => {
        res.writeHead(200);
        res.write(line('ADDED', obj('b', '3')));
      },
    ]);
    const informer = new Informer<WatchedObject>(rest, {
      path: '/api/v1/configmaps',
      what: {},
      logger,
      idleTimeoutMs: 300,
    });
    const events = record(informer);
    await informer.start();
    await vi.waitFor(() => expect(events).toEqual(['add a', 'add b']), { timeout: 5000 });
    expect(requests[2]!.searchParams.get('resourceVersion')).toBe('2');
    await informer.stop();
  });

  it('keeps retrying a failing first list, and stop() releases whoever waits for it', async () => {
    const failing: Handler = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'no' }));
    };
    const { rest, requests } = await apiServer([failing, failing, failing, failing, failing, failing]);
    const informer = new Informer<WatchedObject>(rest, { path: '/api/v1/configmaps', what: {}, logger });
    const started = informer.start();
    await vi.waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    await informer.stop();
    await started;
  });
});
