import { join } from 'node:path';
import { goldenCases } from '../golden-cases.ts';
import { toAnthropicRequest } from './anthropic-request.ts';
import { fromAnthropicResponse } from './anthropic-response.ts';
import { anthropicStreamConverter } from './anthropic-stream.ts';

goldenCases(join(import.meta.dirname, 'testdata'), {
  provider: 'Anthropic',
  target: {
    name: 'claude',
    provider: 'Anthropic',
    baseUrl: 'https://api.anthropic.com/v1',
    priority: 0,
    weight: 1,
    modelMap: {},
    anthropic: { version: '2023-06-01', defaultMaxTokens: 1024 },
  },
  upstreamModel: 'claude-sonnet-4-5',
  request: toAnthropicRequest,
  response: fromAnthropicResponse,
  stream: anthropicStreamConverter,
});
