/**
 * The fake's tokenizer: one token per whitespace-separated word. Deterministic and documented so that
 * tests can compute exact usage and cost from what they send.
 */
export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

type Content = string | null | undefined | { type?: string; text?: string }[];

export function contentText(content: Content): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p.text === 'string' ? p.text : '')).join(' ');
}

/** Prompt tokens of a chat request: the words of every message's text. */
export function promptTokens(messages: { content?: Content }[], system?: Content): number {
  return (
    countWords(contentText(system)) + messages.reduce((n, m) => n + countWords(contentText(m.content)), 0)
  );
}

/** The reply: `replyTokens` words, starting with the provider's name so tests see who answered. */
export function replyWords(provider: string, replyTokens: number): string[] {
  const words = [
    `${provider}:`,
    'this',
    'is',
    'a',
    'deterministic',
    'fake',
    'reply',
    'from',
    'the',
    'test',
    'provider',
  ];
  return Array.from({ length: replyTokens }, (_, i) => words[i % words.length]!);
}
