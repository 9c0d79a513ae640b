/**
 * The fake LLM provider as a command: `node tools/fake-llm/main.ts --port 8090 --name fake`.
 * Speaks OpenAI (/v1/...), Azure OpenAI (/openai/deployments/...) and Anthropic (/v1/messages).
 */
import { parseArgs } from 'node:util';
import { createFakeLlm } from './fake-llm-server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FAKE_LLM_PORT ?? '8090' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'fake' },
    'api-key': { type: 'string' },
    'ttft-ms': { type: 'string' },
    'token-delay-ms': { type: 'string' },
    'reply-tokens': { type: 'string' },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const fake = createFakeLlm({
  name: values.name,
  ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
  behavior: {
    ttftMs: num(values['ttft-ms']),
    tokenDelayMs: num(values['token-delay-ms']),
    replyTokens: num(values['reply-tokens']),
  },
});
fake.server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`fake LLM "${values.name}" on http://${values.host}:${values.port}\n`);
});
process.once('SIGTERM', () => fake.server.close());
process.once('SIGINT', () => fake.server.close());
