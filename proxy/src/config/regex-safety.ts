import safeRegex from 'safe-regex2';

/**
 * Patterns come from cluster users, and JavaScript regexes backtrack: a pattern with nested
 * quantifiers or backreferences could pin the proxy's CPU. Such patterns are refused when the config
 * is validated, not discovered at request time.
 */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'gu');
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed (they can take exponential time)';
  if (!safeRegex(pattern, { limit: 25 }))
    return 'pattern may backtrack catastrophically (nested or overlapping quantifiers); simplify it';
  return undefined;
}
