import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardConfig } from '../../proxy/src/config/guards.ts';
import { guardPatternProblem } from '../../proxy/src/config/user-regex.ts';
import { scanWhole } from '../../proxy/src/guard/scan-whole.ts';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml, maskEverythingGuardYaml } from '../support/ai-yaml.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from '../support/gateway.ts';
import { MASK_EVERY_BUILTIN, testGuard } from '../support/guards.ts';
import { send } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

/**
 * PromptGuard patterns against text crafted to make them backtrack. Every pattern a backtracking
 * engine would freeze on is either refused when loaded, naming the construct, or runs on RE2 in time
 * linear in the text; built-ins are checked against the input shaped to hurt each. Times are
 * printed; the bounds asserted are far above them and far below a freeze (a quadratic pattern on
 * 1 MiB takes tens of seconds), so they hold on a loaded machine and still catch a regression.
 */
const MiB = 1 << 20;
const fill = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
const FREEZE_MS = 2_000;
const STALL_MS = 250;

/** Scans `text`, measuring the total time and the longest the event loop was held at once. */
async function timedScan(text: string, config: Partial<GuardConfig>) {
  const { detectors } = testGuard(config);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await scanWhole(text, detectors);
  const ms = performance.now() - started;
  delay.disable();
  return { ms, stallMs: delay.max / 1e6 };
}

const CUSTOM: [pattern: string, crafted: string][] = [
  ['(a|aa)+', fill('a')],
  ['(a|a)*b', fill('a')],
  ['(a|b|ab)*c', fill('ab')],
  ['a*a*a*a*a*b', fill('a')],
  ['[a-z]+X', fill('a')],
  ['\\w+@', fill('a')],
  ['\\s+x', fill(' ')],
  ['(\\w+\\s?)*!', fill('a ')],
  ['(x+x+)+y', fill('x')],
  ['^(a+)+b', fill('a')],
  ['(a|a)*', fill('a')],
];
const REFUSED: [pattern: string, reason: RegExp][] = [
  ['(?=(a+))+b', /lookahead .* not supported/],
  ['(?!(a|aa)+$)x', /lookahead .* not supported/],
  ['(?<=a+)b', /lookbehind .* not supported/],
  ['(a+)\\1+b', /backreference .* not supported/],
  ['(?>a+)b', /atomic group .* not supported/],
  ['a++b', /possessive quantifier .* not supported/],
  ['(a|aa)+$', /end-of-text anchors .* not supported in PromptGuard/],
  ['\\s*$', /end-of-text anchors/],
  ['(\\w+\\s?)*$', /end-of-text anchors/],
  ['key\\z', /end-of-text anchors/],
];
/** For each built-in, the input shaped to make it work hardest. */
const CRAFTED: Record<string, string> = {
  'IPv6: " ::" repeated': fill(' ::'),
  'IPv6: "a:" repeated': fill('a:'),
  'PrivateKey: headers repeated': fill('-----BEGIN PRIVATE KEY-----'),
  'PrivateKey: header and base64 without a footer': `-----BEGIN PRIVATE KEY-----\n${fill('QUJD')}`,
  'Email: local parts of 63 characters': fill(`${'a'.repeat(63)}@`),
  'Email: "a@" repeated': fill('a@'),
  'Email: a domain without a TLD': fill('a@b.c-'),
  'Phone: digit pairs': fill('11 '),
  'Phone: numbers that almost validate': fill('+1 415 555 01 '),
  'CreditCard: digits': fill('4'),
  'CreditCard: groups of four': fill('4242 '),
  'SSN / IPv4: "1." repeated': fill('1.'),
  'IBAN: country codes repeated': fill('GB82 '),
  'JWT: "eyJ" repeated': fill('eyJ'),
  'JWT: segments without a third': fill('eyJaaaa.eyJbbbb.'),
  'keys: prefixes repeated': fill('sk-xoxb-ghp_AKIA'),
  'normalisation: zero-width between every letter': fill('a\u200b'),
  'normalisation: full-width digits': fill('１２３'),
  'normalisation: Cyrillic prose': fill('Привет мир '),
};

describe('PromptGuard patterns cannot freeze the proxy', () => {
  const report: string[] = [];
  afterAll(() => console.log(`PromptGuard on 1 MiB of crafted text:\n${report.join('\n')}`));

  it.each(REFUSED)('refuses %s when the config is loaded, naming the construct', (pattern, reason) => {
    expect(guardPatternProblem(pattern)).toMatch(reason);
  });

  it.each(CUSTOM)('accepts %s and scans 1 MiB crafted for it in linear time', async (pattern, crafted) => {
    expect(guardPatternProblem(pattern)).toBeUndefined();
    const { ms, stallMs } = await timedScan(crafted, {
      regexes: [{ name: 'custom', pattern, action: 'Mask', replacement: '<X>', maxLength: 64 }],
    });
    report.push(
      `  custom ${pattern.padEnd(14)} ${ms.toFixed(0).padStart(5)} ms, longest stall ${stallMs.toFixed(1)} ms`,
    );
    expect(ms).toBeLessThan(FREEZE_MS);
    expect(stallMs).toBeLessThan(STALL_MS);
  });

  it.each(Object.entries(CRAFTED))('scans %s with every built-in in linear time', async (what, crafted) => {
    const { ms, stallMs } = await timedScan(crafted, {
      builtins: MASK_EVERY_BUILTIN,
    });
    report.push(
      `  ${what.padEnd(48)} ${ms.toFixed(0).padStart(5)} ms, longest stall ${stallMs.toFixed(1)} ms`,
    );
    expect(ms).toBeLessThan(FREEZE_MS);
    expect(stallMs).toBeLessThan(STALL_MS);
  });
});

describe('a crafted 1 MiB prompt does not hold up other clients', () => {
  let fake: RunningFake;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = await startFake({ name: 'llm', behavior: { echo: false } });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml':
        aiBackendYaml('chat', [], [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }]) +
        httpRouteYaml(aiRuleYaml('chat')) +
        maskEverythingGuardYaml(
          'all',
          'regexes: [{name: nested, pattern: "(a|aa)+b", action: Mask, maxLength: 64}]',
        ),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  const chat = (content: string) =>
    send(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content }] }),
    });

  it('answers small requests while a crafted one is scanned, and answers the crafted one too', async () => {
    // Just under the test gateway's 1 MiB body limit, JSON included.
    const crafted = chat(`${'a'.repeat(MiB - 300)} ${fill('11 ').slice(0, 32)}`);
    const latencies: number[] = [];
    let done = false;
    void crafted.finally(() => {
      done = true;
    });
    while (!done && latencies.length < 200) {
      const started = performance.now();
      const res = await chat('hello');
      latencies.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    expect((await crafted).status).toBe(200);
    const worst = Math.max(...latencies);
    console.log(
      `concurrent chat latency during a crafted 1 MiB prompt: worst ${worst.toFixed(1)} ms over ${latencies.length} requests`,
    );
    expect(worst).toBeLessThan(STALL_MS * 2);
  });
});
