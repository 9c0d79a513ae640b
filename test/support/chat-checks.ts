import type OpenAI from 'openai';
import { expect } from 'vitest';

/**
 * Asks `model` the same question unstreamed and streamed (usage included) and checks what a client
 * of a translated provider relies on: the stream's deltas add up to the unstreamed text, it finishes
 * once with `stop`, and its usage chunk has the fake provider's count (3 words in, 8 out).
 */
export async function expectStreamLikeWhole(openai: OpenAI, model: string): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'count to three' }];
  const whole = await openai.chat.completions.create({ model, messages });
  const stream = await openai.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  const finishes: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    if (chunk.usage) usage = chunk.usage;
  }
  expect(text).toBe(whole.choices[0]?.message.content);
  expect(finishes).toEqual(['stop']);
  expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 8 });
}

export const WEATHER_TOOL: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

/**
 * A tool round trip with `model`: asked for the weather with WEATHER_TOOL required, the fake provider
 * calls it for Paris (checked here, finish reason included); then the call is answered with a JSON
 * result in a second request. Returns the call and what the provider received for each request, so
 * the caller checks its own wire format.
 */
export async function weatherToolRoundTrip(
  openai: OpenAI,
  model: string,
  lastUpstreamBody: () => unknown,
): Promise<{ call: OpenAI.ChatCompletionMessageFunctionToolCall; asked: unknown; answered: unknown }> {
  const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'weather in Paris?' };
  const first = await openai.chat.completions.create({
    model,
    messages: [question],
    tools: [WEATHER_TOOL],
    tool_choice: 'required',
  });
  const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
  expect(first.choices[0]?.finish_reason).toBe('tool_calls');
  expect(call.function.name).toBe('get_weather');
  expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  const asked = lastUpstreamBody();
  await openai.chat.completions.create({
    model,
    messages: [
      question,
      first.choices[0]!.message,
      { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny","celsius":21}' },
    ],
  });
  return { call, asked, answered: lastUpstreamBody() };
}
