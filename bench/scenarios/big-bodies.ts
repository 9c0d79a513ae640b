/**
 * `npm run bench:big-bodies`: 32 clients each sending a 20 MiB chat request at once to one proxy
 * process, with the default cap on buffered AI bodies (64 MiB), 256 MiB, and the cap lifted. Reports
 * the proxy's peak RSS (VmHWM from /proc) and how many requests were served or refused (503).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startSluice } from '../../test/cluster/sluice-process.ts';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from '../../test/support/ai-yaml.ts';
import { startFake } from '../../test/support/fake-providers.ts';
import { gatewayYaml } from '../../test/support/gateway.ts';
import { freePort } from '../../test/support/ports.ts';

const CLIENTS = 32;
const BODY_BYTES = 20 * 1024 * 1024 - 1024;

async function run(cap: string) {
  const fake = await startFake({ name: 'llm', behavior: { replyTokens: 4 } });
  const port = await freePort();
  const admin = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-big-bodies-'));
  await writeFile(
    join(dir, 'gateway.yaml'),
    [
      gatewayYaml(port),
      aiBackendYaml('llm', [], [{ name: 'f', provider: 'OpenAI', url: `${fake.url}/v1` }]),
      httpRouteYaml(aiRuleYaml('llm')),
    ].join('\n'),
  );
  const proc = await startSluice(
    ['standalone', '-f', dir, '--log-level', 'error', '--max-buffered-body-bytes', cap],
    admin,
  );
  const rssMiB = (field: string) =>
    Number(
      new RegExp(`${field}:\\s+(\\d+) kB`).exec(
        readFileSync(`/proc/${proc.child.pid}/status`, 'utf8'),
      )?.[1] ?? 0,
    ) / 1024;
  const before = rssMiB('VmRSS');
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(BODY_BYTES) }] });
  const agent = new Agent({ connections: CLIENTS });
  const statuses = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: agent,
      }).catch(() => undefined);
      await res?.body.dump();
      return res?.statusCode ?? 0;
    }),
  );
  const peak = rssMiB('VmHWM');
  await agent.close();
  await proc.stop();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
  const count = (s: number) => statuses.filter((x) => x === s).length;
  return {
    cap,
    before,
    peak,
    served: count(200),
    busy: count(503),
    other: CLIENTS - count(200) - count(503),
  };
}

const rows = [await run('67108864'), await run('268435456'), await run('4294967296')];
console.log(
  `\n${CLIENTS} concurrent ${(BODY_BYTES / 1024 / 1024).toFixed(0)} MiB chat requests to one proxy process\n`,
);
console.log('| buffered-body cap | RSS before MiB | peak RSS MiB | served | 503 server_busy | other |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${Number(r.cap) / 1024 / 1024} MiB | ${r.before.toFixed(0)} | ${r.peak.toFixed(0)} | ${r.served} | ${r.busy} | ${r.other} |`,
  );
process.exit(0);
