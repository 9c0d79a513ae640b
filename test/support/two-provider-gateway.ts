import { aiBackendYaml, modelRouteYaml } from './ai-yaml.ts';
import { type RunningFake, startFake } from './fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './gateway.ts';
import { freePort } from './ports.ts';

/**
 * An in-process gateway with model `gpt` on an OpenAI target and `claude` on an Anthropic target,
 * both served by one fake provider, plus `policies` (YAML of TokenRateLimitPolicies, PromptGuards…)
 * and `pricing` (AIBackend spec lines, given to both backends).
 */
export async function startTwoProviderGateway(
  policies: string,
  replyTokens?: number,
  pricing = '',
): Promise<{ gw: TestGateway; fake: RunningFake; close(): Promise<void> }> {
  const fake = await startFake({ name: 'llm', ...(replyTokens ? { behavior: { replyTokens } } : {}) });
  const port = await freePort();
  const gw = await startGateway(port, {
    'gateway.yaml': gatewayYaml(port) + policies,
    'backends.yaml':
      aiBackendYaml('openai', ['gpt'], [{ name: 'o', provider: 'OpenAI', url: `${fake.url}/v1` }], pricing) +
      aiBackendYaml(
        'claude',
        ['claude'],
        [{ name: 'a', provider: 'Anthropic', url: `${fake.url}/v1` }],
        pricing,
      ),
    'routes.yaml': modelRouteYaml({ gpt: 'openai', claude: 'claude' }),
  });
  return {
    gw,
    fake,
    close: async () => {
      await gw.close();
      await fake.close();
    },
  };
}
