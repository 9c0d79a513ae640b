import { join } from 'node:path';
import { goldenCases } from '../golden-cases.ts';
import { toGeminiRequest } from './gemini-request.ts';
import { fromGeminiResponse } from './gemini-response.ts';
import { geminiStreamConverter } from './gemini-stream.ts';

goldenCases(join(import.meta.dirname, 'testdata'), {
  provider: 'Gemini',
  target: {
    name: 'gemini',
    provider: 'Gemini',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    priority: 0,
    weight: 1,
    modelMap: {},
  },
  upstreamModel: 'gemini-2.5-flash',
  request: toGeminiRequest,
  response: fromGeminiResponse,
  stream: geminiStreamConverter,
});
