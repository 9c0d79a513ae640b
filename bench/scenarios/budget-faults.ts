/**
 * `npm run bench:budget-faults`: token budgets shared by 3 proxy processes on one Redis, 32 clients,
 * while Redis is killed for 4 s or stalled (SIGSTOP) for 2 s, with FailOpen and FailClosed budgets.
 * Reports what was admitted against the budget (overshoot), whether Redis's counter equals the usage
 * the provider reported once everything settled, and whether every proxy left the degraded state.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { startSluice, waitFor } from '../../test/cluster/sluice-process.ts';
import { aiBackendYaml, aiRuleYaml, budgetPolicyYaml, httpRouteYaml } from '../../test/support/ai-yaml.ts';
import { startFake } from '../../test/support/fake-providers.ts';
import { gatewayYaml } from '../../test/support/gateway.ts';
import { freePort } from '../../test/support/ports.ts';
import { startRedis } from '../../test/support/redis.ts';

const BUDGET = 30_000;
const CLIENTS = 32;
const PROXIES = 3;

type Fault = 'kill 4 s' | 'SIGSTOP 2 s';
type Mode = 'FailOpen' | 'FailClosed';

async function scenario(fault: Fault, mode: Mode) {
  const redis = await startRedis();
  const fake = await startFake({ name: 'llm', behavior: { replyTokens: 20 } });
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-budget-faults-'));
  await writeFile(
    join(dir, 'gateway.yaml'),
    [
      gatewayYaml(port),
      aiBackendYaml('llm', [], [{ name: 'fake', provider: 'OpenAI', url: `${fake.url}/v1` }]),
      httpRouteYaml(aiRuleYaml('llm')),
      budgetPolicyYaml(
        'shared',
        [`{name: tokens, per: Consumer, measure: TotalTokens, amount: ${BUDGET}, window: Day}`],
        {
          failureMode: mode,
          defaultMaxOutputTokens: 20,
        },
      ),
    ].join('\n'),
  );
  // Each proxy serves the same directory on its own port (as replicas behind one Service would).
  const proxies: {
    port: number;
    admin: number;
    proc: Awaited<ReturnType<typeof startSluice>>;
    dir: string;
  }[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const p = i === 0 ? port : await freePort();
    const pdir = i === 0 ? dir : await mkdtemp(join(tmpdir(), 'sluice-budget-faults-'));
    if (i > 0) {
      const { readFile } = await import('node:fs/promises');
      const text = (await readFile(join(dir, 'gateway.yaml'), 'utf8')).replace(`port: ${port}`, `port: ${p}`);
      await writeFile(join(pdir, 'gateway.yaml'), text);
    }
    const admin = await freePort();
    const proc = await startSluice(
      ['standalone', '-f', pdir, '--redis-url', redis.url, '--log-level', 'error'],
      admin,
    );
    proxies.push({ port: p, admin, proc, dir: pdir });
  }
  // Replicas learn how many they are from heartbeats (every second): let one round pass after start.
  await new Promise((r) => setTimeout(r, 1500));
  const agent = new Agent({ connections: CLIENTS });
  const body = JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content: 'tell me about the budgets of a token gateway please' }],
  });
  let served = 0;
  let refused = 0;
  let unavailable = 0;
  let other = 0;
  let stop = false;
  let lastServed = Date.now();
  const client = async (i: number) => {
    const proxy = proxies[i % PROXIES]!;
    while (!stop) {
      const res = await request(`http://127.0.0.1:${proxy.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-consumer': 'team-a' },
        body,
        dispatcher: agent,
      }).catch(() => undefined);
      if (!res) {
        other++;
        continue;
      }
      await res.body.dump();
      if (res.statusCode === 200) {
        served++;
        lastServed = Date.now();
      } else if (res.statusCode === 429) {
        refused++;
        await new Promise((r) => setTimeout(r, 20));
      } else if (res.statusCode === 503) {
        unavailable++;
        await new Promise((r) => setTimeout(r, 20));
      } else other++;
    }
  };
  const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  // Let a third of the budget go, then the fault; after it, run until the budget refuses for 1 s.
  const usedTokens = () => fake.reported.reduce((n, u) => n + u.prompt + u.completion, 0);
  await waitFor(() => usedTokens() > BUDGET / 3, 'a third of the budget to be used', 60_000);
  const replicasSeen = await Promise.all(
    proxies.map(async (p) => {
      const text = await (await request(`http://127.0.0.1:${p.admin}/metrics`)).body.text();
      return Number(/^sluice_ratelimit_replicas (\S+)$/m.exec(text)?.[1] ?? 0);
    }),
  );
  if (fault === 'kill 4 s') {
    await redis.kill();
    await new Promise((r) => setTimeout(r, 4000));
    await redis.start();
  } else {
    redis.pause();
    await new Promise((r) => setTimeout(r, 2000));
    redis.resume();
  }
  const recoveredAt = Date.now();
  await waitFor(
    () => Date.now() - lastServed > 1000 && Date.now() - recoveredAt > 2000,
    'the budget to refuse',
    60_000,
  );
  stop = true;
  await load;
  await agent.close();
  // Every proxy settles and replays, and leaves the degraded state.
  const degraded = async () => {
    let sum = 0;
    for (const p of proxies) {
      const text = await (await request(`http://127.0.0.1:${p.admin}/metrics`)).body.text();
      sum += Number(/^sluice_ratelimit_store_degraded (\S+)$/m.exec(text)?.[1] ?? 0);
      sum += Number(/^sluice_budget_reservations_in_flight (\S+)$/m.exec(text)?.[1] ?? 0);
      sum += Number(/^sluice_ratelimit_pending_charges (\S+)$/m.exec(text)?.[1] ?? 0);
    }
    return sum;
  };
  let settled = true;
  await waitFor(async () => (await degraded()) === 0, 'every proxy to settle and replay', 20_000).catch(
    () => {
      settled = false;
    },
  );
  const client2 = new Redis(redis.url);
  const keys = (await client2.keys('sluice:{*}:*')).filter((k) => !k.includes(':op:'));
  const counter = keys.length === 1 ? Number(await client2.get(keys[0]!)) : Number.NaN;
  client2.disconnect();
  const reported = usedTokens();
  for (const p of proxies) await p.proc.stop();
  await fake.close();
  await redis.close();
  await Promise.all(proxies.map((p) => rm(p.dir, { recursive: true, force: true })));
  return {
    fault,
    mode,
    served,
    refused,
    unavailable,
    other,
    reported,
    overshoot: reported / BUDGET - 1,
    replicasSeen: replicasSeen.join('/'),
    counter,
    counterEqualsUsage: counter === reported,
    settled,
  };
}

const rows = [];
for (const fault of ['kill 4 s', 'SIGSTOP 2 s'] as Fault[])
  for (const mode of ['FailOpen', 'FailClosed'] as Mode[]) rows.push(await scenario(fault, mode));

console.log(`\nBudget of ${BUDGET} tokens, ${PROXIES} proxy processes on one Redis, ${CLIENTS} clients\n`);
console.log(
  '| fault | mode | served | 429 | 503 | other | tokens used (provider) | overshoot | Redis counter | equal | degraded back to 0 |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
for (const r of rows)
  console.log(
    `| ${r.fault} | ${r.mode} | ${r.replicasSeen} | ${r.served} | ${r.refused} | ${r.unavailable} | ${r.other} | ${r.reported} | ${(r.overshoot * 100).toFixed(1)}% | ${r.counter} | ${r.counterEqualsUsage ? 'yes' : 'no'} | ${r.settled ? 'yes' : 'no'} |`,
  );
process.exit(0);
