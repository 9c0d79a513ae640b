const KEY = '"content"';

/**
 * The text of a chat completion chunk (its `"content"` strings, in order) read from the chunk's JSON
 * text without parsing it: a burst of streamed chunks spent most of the gateway's own CPU in
 * JSON.parse, for text that is only needed when the provider sends no usage. Undefined when a
 * `"content"` key holds anything but a string or null (logprobs' arrays, say): the caller parses
 * the chunk then.
 *
 * Why reading the raw text is sound: inside a JSON string every `"` is escaped, so an unescaped
 * `"content"` is a whole string — a key when a colon follows, else a value that happens to be that
 * word — and a chat chunk's only string-valued `content` key is a delta's.
 */
export function chatChunkText(data: string): string | undefined {
  let text = '';
  for (let at = data.indexOf(KEY); at !== -1; at = data.indexOf(KEY, at)) {
    let i = skipSpace(data, at + KEY.length);
    if (data[i] !== ':') {
      at = i; // a string value that is the word content, not the key
      continue;
    }
    i = skipSpace(data, i + 1);
    if (data.startsWith('null', i)) {
      at = i + 4;
      continue;
    }
    if (data[i] !== '"') return undefined;
    const end = closingQuote(data, i + 1);
    if (end === -1) return undefined;
    const literal = data.slice(i + 1, end);
    const value = literal.includes('\\') ? unescaped(literal) : literal;
    if (value === undefined) return undefined;
    text += value;
    at = end + 1;
  }
  return text;
}

function skipSpace(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  return i;
}

/** The index of the quote that ends the string starting at `from`: one not escaped by a backslash. */
function closingQuote(s: string, from: number): number {
  for (let q = s.indexOf('"', from); q !== -1; q = s.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (s[q - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

/** A string literal's escapes (\n, \", \uXXXX…) resolved as JSON does; undefined when invalid. */
function unescaped(literal: string): string | undefined {
  try {
    return JSON.parse(`"${literal}"`) as string;
  } catch {
    return undefined;
  }
}
