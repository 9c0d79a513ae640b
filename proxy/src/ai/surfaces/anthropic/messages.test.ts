import { describe, expect, it } from 'vitest';
import { messagesToChat } from './messages-request.ts';
import { anthropicError, chatToMessage } from './messages-response.ts';
import { ChatToMessagesStream } from './messages-stream.ts';

describe('Messages → Chat Completions', () => {
  it('maps system blocks, images, tool use and tool results, tools and tool choice', () => {
    const t = messagesToChat({
      model: 'm',
      max_tokens: 100,
      system: [
        { type: 'text', text: 'A', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'B' },
      ],
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'f' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { x: 1 } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] },
            { type: 'text', text: 'go on' },
          ],
        },
      ],
    });
    expect(t).toEqual({
      ok: true,
      chat: {
        model: 'm',
        max_tokens: 100,
        stop: ['END'],
        user: 'u1',
        tools: [
          { type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } },
        ],
        tool_choice: { type: 'function', function: { name: 'f' } },
        messages: [
          { role: 'system', content: 'A\n\nB' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
          },
          { role: 'tool', tool_call_id: 't1', content: 'ok' },
          { role: 'user', content: 'go on' },
        ],
      },
    });
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
  ])('tool_choice %j → %j', (choice, expected) => {
    const t = messagesToChat({ model: 'm', max_tokens: 1, messages: [], tool_choice: choice });
    expect(t.ok && t.chat.tool_choice).toBe(expected);
  });

  it('asks for the usage in streams, and refuses what it cannot carry, naming the parameter', () => {
    const s = messagesToChat({ model: 'm', max_tokens: 1, stream: true, messages: [] });
    expect(s.ok && s.chat.stream_options).toEqual({ include_usage: true });
    expect(messagesToChat({ model: 'm', max_tokens: 1, top_k: 5, messages: [] })).toMatchObject({
      ok: false,
      param: 'top_k',
    });
    expect(
      messagesToChat({
        model: 'm',
        max_tokens: 1,
        tools: [{ type: 'web_search_20250305', name: 'w' }],
        messages: [],
      }),
    ).toMatchObject({
      ok: false,
      param: 'tools.0',
    });
  });
});

describe('Chat Completions → Messages', () => {
  it('an answer with text and a tool call, its stop reason and usage (cached input apart)', () => {
    expect(
      chatToMessage({
        id: 'c1',
        model: 'm',
        choices: [
          {
            message: {
              content: 'hi',
              tool_calls: [{ id: 't', function: { name: 'f', arguments: '{"a":2}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } },
      }),
    ).toEqual({
      id: 'msg_c1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [
        { type: 'text', text: 'hi' },
        { type: 'tool_use', id: 't', name: 'f', input: { a: 2 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 6,
        output_tokens: 3,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [429, 'rate_limit_error'],
    [503, 'overloaded_error'],
    [502, 'api_error'],
  ])('error status %i → %s', (status, type) => {
    expect(anthropicError(status, { error: { message: 'm' } })).toEqual({
      type: 'error',
      error: { type, message: 'm' },
    });
  });

  it('a stream of text then a tool call becomes the Messages event sequence', () => {
    const s = new ChatToMessagesStream();
    const chunks = [
      { id: 'c', model: 'm', choices: [{ delta: { role: 'assistant', content: '' } }] },
      { id: 'c', model: 'm', choices: [{ delta: { content: 'Hel' } }] },
      { id: 'c', model: 'm', choices: [{ delta: { content: 'lo' } }] },
      {
        id: 'c',
        model: 'm',
        choices: [{ delta: { tool_calls: [{ index: 0, id: 't', function: { name: 'f', arguments: '' } }] } }],
      },
      {
        id: 'c',
        model: 'm',
        choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] } }],
      },
      { id: 'c', model: 'm', choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
      { id: 'c', model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
    ];
    const text = chunks.map((c) => s.data(JSON.stringify(c))).join('') + s.data('[DONE]') + s.finish();
    const events = [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map(([, type, data]) => [
      type,
      JSON.parse(data!),
    ]);
    expect(events.map(([t]) => t)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[5]![1]).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', id: 't', name: 'f' },
    });
    expect(events[6]![1]).toMatchObject({ delta: { type: 'input_json_delta', partial_json: '{}' } });
    expect(events[8]![1]).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 5, output_tokens: 2 },
    });
  });
});
