import { RE2JS } from 're2js';

/**
 * Regular expressions written by cluster users (route path, header, query and gRPC method matches,
 * PromptGuard patterns) run on every request, so they use RE2 semantics (re2js, a port of Google's
 * RE2): matching time is linear in the input whatever the pattern, so no pattern can freeze the
 * proxy. RE2 is also what Envoy-based Gateway API implementations accept; it has no backreferences
 * or lookaround, and such patterns are refused with the construct named.
 */
export type UserRegex = RE2JS;

/** Compiles `pattern`; throws with RE2's description of what is wrong with it. */
export function compileUserRegex(pattern: string): UserRegex {
  return RE2JS.compile(pattern);
}

/** Constructs of backtracking engines RE2 refuses, named the way a user would look them up. */
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\(\?<[=!]/, 'lookbehind (?<=…) / (?<!…)'],
  [/\(\?[=!]/, 'lookahead (?=…) / (?!…)'],
  [/\\[1-9]|\\k</, 'backreference (\\1, \\k<name>)'],
  [/\(\?>/, 'atomic group (?>…)'],
  [/[*+?}][+]/, 'possessive quantifier (a++, a*+)'],
];

/** Why `pattern` is not a valid RE2 expression, or undefined when it is. */
export function userRegexProblem(pattern: string): string | undefined {
  try {
    compileUserRegex(pattern);
    return undefined;
  } catch (err) {
    const construct = UNSUPPORTED.find(([shape]) => shape.test(pattern));
    if (construct)
      return `${construct[1]} is not supported: patterns use RE2 syntax, which matches in linear time and has no lookaround or backreferences`;
    return `invalid regular expression (RE2 syntax): ${(err as Error).message}`;
  }
}

/**
 * PromptGuard patterns are also matched against text that is still arriving (a streamed answer, a
 * long prompt scanned a slice at a time), where the end of the text seen so far is not its end: a
 * pattern anchored to the end (`$`, `\z`) would match there and then not. Such patterns are refused.
 */
export function guardPatternProblem(pattern: string): string | undefined {
  const problem = userRegexProblem(pattern);
  if (problem) return problem;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && (pattern[i + 1] === 'z' || pattern[i + 1] === 'Z')) return END_ANCHOR;
      i++;
    } else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '$' && !inClass) return END_ANCHOR;
  }
  return undefined;
}

const END_ANCHOR =
  'end-of-text anchors ($, \\z) are not supported in PromptGuard patterns: texts are scanned as they arrive, where the end so far is not the end';
