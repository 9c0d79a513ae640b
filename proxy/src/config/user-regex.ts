import { RE2JS } from 're2js';

/**
 * Regular expressions written by cluster users (route path, header, query and gRPC method matches)
 * run on every request, so they use RE2 semantics (re2js, a port of Google's RE2): matching time is
 * linear in the input whatever the pattern, so no pattern can freeze the proxy. RE2 is also what
 * Envoy-based Gateway API implementations accept; it has no backreferences or lookaround.
 */
export type UserRegex = RE2JS;

/** Compiles `pattern`; throws with RE2's description of what is wrong with it. */
export function compileUserRegex(pattern: string): UserRegex {
  return RE2JS.compile(pattern);
}

/** Why `pattern` is not a valid RE2 expression, or undefined when it is. */
export function userRegexProblem(pattern: string): string | undefined {
  try {
    compileUserRegex(pattern);
    return undefined;
  } catch (err) {
    return `invalid regular expression (RE2 syntax): ${(err as Error).message}`;
  }
}
