import type { ProviderType } from '../../config/ai-backend.ts';
import type { ProviderAdapter } from './adapter.ts';
import { anthropicAdapter } from './anthropic/anthropic-adapter.ts';
import { azureOpenAIAdapter } from './azure-openai/azure-openai-adapter.ts';
import { bedrockAdapter } from './bedrock/bedrock-adapter.ts';
import { geminiAdapter } from './gemini/gemini-adapter.ts';
import { openAIAdapter, openAICompatibleAdapter } from './openai/openai-adapter.ts';
import { vertexAdapter } from './vertex/vertex-adapter.ts';

export const ADAPTERS: Readonly<Record<ProviderType, ProviderAdapter>> = {
  OpenAI: openAIAdapter,
  OpenAICompatible: openAICompatibleAdapter,
  AzureOpenAI: azureOpenAIAdapter,
  Anthropic: anthropicAdapter,
  Gemini: geminiAdapter,
  VertexAI: vertexAdapter,
  Bedrock: bedrockAdapter,
};
