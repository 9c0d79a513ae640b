import { describe, expect, it } from 'vitest';
import type { GuardConfig } from '../config/guards.ts';
import { compileGuard } from './compiled-guard.ts';
import { guardRequest, MAX_SCANNED_CHARS } from './guard-request.ts';

const guard = compileGuard({
  name: 'default/g',
  scope: { kind: 'Gateway' },
  roles: ['user', 'tool'],
  builtins: [
    { detector: 'Email', action: 'Mask' },
    { detector: 'CreditCard', action: 'Reject' },
  ],
  regexes: [],
  maskResponses: false,
  rejection: { status: 400, message: 'no' },
} satisfies GuardConfig);

describe('guardRequest', async () => {
  it('checks only the configured roles, and text parts of multi-part messages', async () => {
    const body = {
      messages: [
        { role: 'system', content: 'admin is root@example.com' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'I am bob@example.com' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        { role: 'tool', content: 'result for carol@example.com' },
      ],
    };
    const verdict = await guardRequest('chat', body, [guard]);
    expect(verdict.kind).toBe('pass');
    expect(body.messages[0]?.content).toBe('admin is root@example.com');
    expect(body.messages[1]?.content).toEqual([
      { type: 'text', text: 'I am <EMAIL>' },
      { type: 'image_url', image_url: { url: 'x' } },
    ]);
    expect(body.messages[2]?.content).toBe('result for <EMAIL>');
  });

  it('checks prompts of completions and inputs of embeddings', async () => {
    const completion = { prompt: 'mail x@example.com' };
    await guardRequest('completions', completion, [guard]);
    expect(completion.prompt).toBe('mail <EMAIL>');
    const embedding = { input: ['a@example.com', 'plain'] };
    await guardRequest('embeddings', embedding, [guard]);
    expect(embedding.input).toEqual(['<EMAIL>', 'plain']);
  });

  it('records where a detector fired, never the value', async () => {
    const verdict = await guardRequest(
      'chat',
      { messages: [{ role: 'user', content: 'pay 4111 1111 1111 1111' }] },
      [guard],
    );
    expect(verdict).toMatchObject({
      kind: 'reject',
      finding: { detector: 'CreditCard', action: 'Reject', message: 0, offset: 4, length: 19 },
    });
    expect(JSON.stringify(verdict)).not.toContain('4111');
  });

  it('refuses text beyond the scan limit without scanning it', async () => {
    const verdict = await guardRequest(
      'chat',
      { messages: [{ role: 'user', content: 'x'.repeat(MAX_SCANNED_CHARS + 1) }] },
      [guard],
    );
    expect(verdict).toMatchObject({ kind: 'reject', finding: { detector: 'SizeLimit' } });
  });

  const maskAll = compileGuard({
    name: 'default/all',
    scope: { kind: 'Gateway' },
    roles: ['user', 'system', 'assistant', 'tool'],
    builtins: (['Email', 'CreditCard', 'SSN', 'OpenAIKey', 'JWT', 'IBAN', 'PrivateKey'] as const).map(
      (detector) => ({
        detector,
        action: 'Mask' as const,
      }),
    ),
    regexes: [],
    maskResponses: true,
    rejection: { status: 400, message: 'no' },
  } satisfies GuardConfig);
  const EMAIL = 'jane.doe@example.com';

  it('scans every text field of a chat request, whatever the role is called', async () => {
    const body = {
      messages: [
        { role: 'developer', content: `ops: ${EMAIL}` },
        { role: 'SYSTEM', content: `admin ${EMAIL}` },
        {
          role: 'User',
          name: EMAIL,
          content: [{ type: 'input_text', text: `me ${EMAIL}` }, { text: `untyped ${EMAIL}` }],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'send', arguments: `{"to":"${EMAIL}"}` } },
          ],
        },
        { role: 'function', name: 'lookup', content: `found ${EMAIL}` },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'send',
            description: `mail ${EMAIL}`,
            parameters: {
              type: 'object',
              properties: { to: { type: 'string', description: `e.g. ${EMAIL}` } },
            },
          },
        },
      ],
      user: EMAIL,
      prediction: { type: 'content', content: `draft to ${EMAIL}` },
    };
    const verdict = await guardRequest('chat', body, [maskAll]);
    expect(verdict.kind).toBe('pass');
    expect(JSON.stringify(body)).not.toContain(EMAIL);
    expect(body.messages[3]?.tool_calls?.[0]?.function.arguments).toBe('{"to":"<EMAIL>"}');
    expect(body.tools[0]?.function.parameters.properties.to.description).toBe('e.g. <EMAIL>');
  });

  it('finds a secret split over two text parts of one message, and masks both halves', async () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'key sk-proj-AbCdEfGhIj' },
            { type: 'text', text: 'KlMnOpQrStUvWx12 ok' },
          ],
        },
      ],
    };
    await guardRequest('chat', body, [maskAll]);
    expect(body.messages[0]?.content).toEqual([
      { type: 'text', text: 'key <SECRET>' },
      { type: 'text', text: ' ok' },
    ]);
  });

  it('refuses token-id prompts under a guard rather than pass them unscanned', async () => {
    const verdict = await guardRequest('completions', { prompt: [[1, 2, 3]] }, [maskAll]);
    expect(verdict).toEqual({
      kind: 'invalid',
      problem: { pointer: '/prompt/0', message: expect.stringMatching(/token ids/) },
    });
  });

  it.each([
    ['a zero-width space inside an email', 'jane\u200b.doe@exam\u200dple.com'],
    ['full-width digits and at sign', 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ'],
    ['Cyrillic look-alikes in the domain', 'jane@ехаmple.com'],
    ['a soft hyphen in a key', 'sk-proj-AbCdEf\u00adGhIjKlMnOpQrStUvWx12'],
    ['full-width digits in a card', '４１１１ １１１１ １１１１ １１１１'],
    ['an SSN with en dashes', '123–45–6789'],
    ['an SSN with spaces', '123 45 6789'],
    ['zero-width joiners in an IBAN', 'GB82\u200dWEST12345698765432'],
    [
      'a JWT with a zero-width space',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0\u200b.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    [
      'a PEM key with a no-break space in its header',
      '-----BEGIN\u00a0PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----',
    ],
    [
      'a PEM key inside JSON with escaped newlines',
      '{"key":"-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\\n-----END RSA PRIVATE KEY-----"}',
    ],
  ])('catches %s and leaves no residue', async (_what, secret) => {
    const body = { messages: [{ role: 'user', content: `before ${secret} after` }] };
    await guardRequest('chat', body, [maskAll]);
    const content = body.messages[0]!.content;
    expect(content).toMatch(/^before (\{"key":")?<[A-Z_]+>("\})? after$/);
  });
});
