import { connect as http2Connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileGateway, startHostileGateway } from '../support/hostile-gateway.ts';
import { firstBody, openSocket, rawExchange, statuses } from '../support/raw-socket.ts';

/** Process-wide limits: idle HTTP/2 connections are closed, buffered AI bodies are capped. */
describe('resource limits', () => {
  let gw: HostileGateway;
  beforeAll(async () => {
    gw = await startHostileGateway([
      '--http2-idle-timeout',
      '1',
      '--max-body-bytes',
      '2000000',
      '--max-buffered-body-bytes',
      '3000000',
    ]);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('closes idle h2c connections after the idle timeout, with GOAWAY', async () => {
    const sessions = Array.from({ length: 50 }, () => http2Connect(gw.url));
    const closed = sessions.map(
      (s) =>
        new Promise<boolean>((resolve) => {
          let goaway = false;
          s.on('goaway', () => {
            goaway = true;
          });
          s.on('error', () => {});
          s.on('close', () => resolve(goaway));
        }),
    );
    // One request on the first, so a session that was used is closed as well as one that never was.
    const req = sessions[0]!.request({ ':path': '/h2', ':method': 'GET' });
    req.resume();
    await new Promise((r) => req.on('end', r));
    expect(await Promise.all(closed)).toEqual(Array(50).fill(true));
    await gw.expectAlive();
  });

  it('refuses a body with 503 while others hold the buffer budget, and gives it back when they leave', async () => {
    const head = (length: number) =>
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`;
    const holders = await Promise.all([openSocket(gw.port), openSocket(gw.port)]);
    for (const s of holders) {
      s.on('error', () => {});
      // 1.4 MB of a 1.5 MB body, never finished: each holds its bytes in the gateway.
      s.write(head(1_500_000));
      s.write(Buffer.alloc(1_400_000, 0x20));
    }
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(900_000) }] });
    const refused = await waitForStatus(() => rawExchange(gw.port, [head(body.length) + body]), 503);
    expect(JSON.parse(firstBody(refused)).error.code).toBe('server_busy');
    for (const s of holders) s.resetAndDestroy();
    const served = await waitForStatus(() => rawExchange(gw.port, [head(body.length) + body]), 200);
    expect(statuses(served)).toEqual([200]);
    await gw.expectAlive();
  });
});

/** Repeats an exchange until its first status is `status` (the gateway reads the holders' bytes asynchronously). */
async function waitForStatus(exchange: () => Promise<{ received: string }>, status: number): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    last = (await exchange()).received;
    if (statuses(last)[0] === status) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never answered ${status}; last answer:\n${last.slice(0, 300)}`);
}
