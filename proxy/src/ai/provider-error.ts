/**
 * Provider error bodies are relayed to clients in a fixed, sanitised shape: an OpenAI error with a
 * scrubbed message and the provider's type and code when they look like identifiers. Nothing else
 * of the provider's body passes (it may echo credentials, name internal hosts, or carry anything).
 */
const MAX_MESSAGE = 500;

/** Credentials and addresses a provider message may contain, replaced by what they are. */
const SCRUBBERS: [RegExp, string][] = [
  [/\bBearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/\b(?:sk|rk|pk)-[A-Za-z0-9_-]{6,}/g, '[redacted key]'],
  [/\bAKIA[0-9A-Z]{16}\b/g, '[redacted key]'],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, '[redacted key]'],
  [/\b(?:api[_-]?key|key|token|secret|password)=[^\s&"']+/gi, '[redacted]'],
  // Long opaque tokens (keys, signatures) of whatever vendor.
  [/[A-Za-z0-9_-]{40,}/g, '[redacted]'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, '[url]'],
  [/\[[0-9a-f:]{2,45}\](?::\d+)?/gi, '[address]'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '[address]'],
  [/\blocalhost:\d+\b/gi, '[address]'],
];

/** Removes credentials (the target's own key first, literally) and addresses from a provider text. */
export function scrubProviderText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.length > 4 * MAX_MESSAGE ? text.slice(0, 4 * MAX_MESSAGE) : text;
  for (const secret of secrets)
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted key]');
  for (const [pattern, replacement] of SCRUBBERS) out = out.replace(pattern, replacement);
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

const IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;

/** An adapter's OpenAI-shaped error body, reduced to what a client may see. */
export function sanitizedProviderError(
  body: Record<string, unknown>,
  status: number,
  secrets: readonly (string | undefined)[],
): { error: { message: string; type: string; code: string | null; param?: string } } {
  const e = (typeof body.error === 'object' && body.error !== null ? body.error : {}) as Record<
    string,
    unknown
  >;
  const message =
    typeof e.message === 'string' ? scrubProviderText(e.message, secrets) : `provider answered ${status}`;
  const type = typeof e.type === 'string' && IDENTIFIER.test(e.type) ? e.type : 'upstream_error';
  const code = typeof e.code === 'string' && IDENTIFIER.test(e.code) ? e.code : null;
  const param = typeof e.param === 'string' && IDENTIFIER.test(e.param) ? e.param : undefined;
  return { error: { message, type, code, ...(param ? { param } : {}) } };
}
