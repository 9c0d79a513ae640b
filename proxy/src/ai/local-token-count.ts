import type { Tiktoken } from 'js-tiktoken/lite';

let encoder: Promise<Tiktoken> | undefined;

/**
 * Counts tokens with js-tiktoken (o200k_base). Loaded on first use only: it is needed just for
 * streams cut short without provider usage, never on the normal path.
 */
export async function countTokens(text: string): Promise<number> {
  encoder ??= Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]).then(
    ([lite, ranks]) => new lite.Tiktoken(ranks.default),
  );
  return (await encoder).encode(text).length;
}
