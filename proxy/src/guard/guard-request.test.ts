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

describe('guardRequest', () => {
  it('checks only the configured roles, and text parts of multi-part messages', () => {
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
    const verdict = guardRequest('chat', body, [guard]);
    expect(verdict.kind).toBe('pass');
    expect(body.messages[0]?.content).toBe('admin is root@example.com');
    expect(body.messages[1]?.content).toEqual([
      { type: 'text', text: 'I am <EMAIL>' },
      { type: 'image_url', image_url: { url: 'x' } },
    ]);
    expect(body.messages[2]?.content).toBe('result for <EMAIL>');
  });

  it('checks prompts of completions and inputs of embeddings', () => {
    const completion = { prompt: 'mail x@example.com' };
    guardRequest('completions', completion, [guard]);
    expect(completion.prompt).toBe('mail <EMAIL>');
    const embedding = { input: ['a@example.com', 'plain'] };
    guardRequest('embeddings', embedding, [guard]);
    expect(embedding.input).toEqual(['<EMAIL>', 'plain']);
  });

  it('records where a detector fired, never the value', () => {
    const verdict = guardRequest(
      'chat',
      { messages: [{ role: 'user', content: 'pay 4111 1111 1111 1111' }] },
      [guard],
    );
    expect(verdict).toMatchObject({
      kind: 'reject',
      finding: { detector: 'CreditCard', action: 'Reject', message: 0, offset: 4, length: 19 },
    });
    expect(JSON.stringify(verdict.findings)).not.toContain('4111');
  });

  it('refuses text beyond the scan limit without scanning it', () => {
    const verdict = guardRequest(
      'chat',
      { messages: [{ role: 'user', content: 'x'.repeat(MAX_SCANNED_CHARS + 1) }] },
      [guard],
    );
    expect(verdict).toMatchObject({ kind: 'reject', finding: { detector: 'SizeLimit' } });
  });
});
