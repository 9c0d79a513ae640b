import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { assignRequestId, type RequestIdMode } from './request-telemetry.ts';

/** A request carrying `offered` as its x-request-id, and the answer headers set on it. */
function exchange(mode: RequestIdMode, offered?: string) {
  const req = { headers: offered === undefined ? {} : { 'x-request-id': offered } } as IncomingMessage;
  const answer: Record<string, unknown> = {};
  const res = {
    setHeader: (k: string, v: unknown) => {
      answer[k] = v;
    },
  } as unknown as ServerResponse;
  const id = assignRequestId(req, res, mode);
  return { id, upstream: req.headers['x-request-id'], answer: answer['x-request-id'] };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('ClientTrafficPolicy headers.requestID', () => {
  it('PreserveOrGenerate keeps a sane client id and replaces a missing or hostile one', () => {
    expect(exchange('PreserveOrGenerate', 'client-1')).toEqual({
      id: 'client-1',
      upstream: 'client-1',
      answer: 'client-1',
    });
    expect(exchange('PreserveOrGenerate').id).toMatch(UUID);
    const hostile = exchange('PreserveOrGenerate', 'x\r\nset-cookie: a=b');
    expect(hostile.id).toMatch(UUID);
    expect(hostile.upstream).toBe(hostile.id);
  });

  it('Generate always makes a new id; Preserve never makes one; Disable leaves the header alone', () => {
    const generated = exchange('Generate', 'client-1');
    expect(generated.id).toMatch(UUID);
    expect(generated.upstream).toBe(generated.id);
    expect(exchange('Preserve', 'client-1').id).toBe('client-1');
    expect(exchange('Preserve')).toEqual({ id: undefined, upstream: undefined, answer: undefined });
    expect(exchange('Disable', 'client-1')).toEqual({
      id: undefined,
      upstream: 'client-1',
      answer: undefined,
    });
  });
});
