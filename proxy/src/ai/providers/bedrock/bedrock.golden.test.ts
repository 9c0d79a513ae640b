import { join } from 'node:path';
import { goldenCases } from '../golden-cases.ts';
import { toConverseRequest } from './bedrock-request.ts';
import { fromConverseResponse } from './bedrock-response.ts';
import { bedrockStreamConverter } from './bedrock-stream.ts';

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';

goldenCases(join(import.meta.dirname, 'testdata'), {
  provider: 'Bedrock',
  target: {
    name: 'bedrock',
    provider: 'Bedrock',
    baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
    priority: 0,
    weight: 1,
    modelMap: {},
    bedrock: { region: 'us-east-1' },
  },
  upstreamModel: MODEL,
  request: toConverseRequest,
  response: (json) => fromConverseResponse(json, MODEL),
  stream: bedrockStreamConverter,
  namedEvents: true,
  madeUpIds: true,
});
