import { RE2JS } from 're2js';
import type { GuardAction } from '../config/guards.ts';

/** A span of scanned text, `[start, end)`. */
export interface Match {
  start: number;
  end: number;
}

/**
 * How a detector finds what it looks for. `next` must read no more than `CONTEXT_BEFORE` characters
 * before a match (look-behinds, context words) and no more than `maxLength + CONTEXT_AFTER` from a
 * position where it tries one: a stream relies on both to decide a match exactly as a whole-text
 * scan would, with only that much text held back.
 */
export interface DetectorSpec {
  /** The first match starting at or after `from`; text before `from` is only context. */
  next(text: string, from: number, work: ScanWork): Match | undefined;
  /** The longest text a match can span. */
  maxLength: number;
  /**
   * Literals every match starts with, when there are: a stream then holds text back only from the
   * next occurrence of one of them, not `maxLength` from its end.
   */
  triggers?: readonly string[];
  replacement: string;
}

/**
 * What one text's scan has left of costly checks (libphonenumber's validation): text crafted to be
 * full of candidates gets the cheap checks only past this, and fails closed (masks). Per text, so a
 * stream and a whole-text scan of the same text decide alike.
 */
export interface ScanWork {
  phoneChecks: number;
}

export const newScanWork = (): ScanWork => ({ phoneChecks: 500 });

/** A detector as one guard uses it. */
export interface Detector extends DetectorSpec {
  /** The PromptGuard it belongs to (`namespace/name`), for metrics and audit records. */
  guard: string;
  name: string;
  action: GuardAction;
}

/** Characters before a match a detector may read (look-behinds, context words such as "order"). */
export const CONTEXT_BEFORE = 48;
/** Characters after a match's longest extent a detector may read (look-aheads). */
export const CONTEXT_AFTER = 16;

/**
 * A detector from a global regex, with an optional refinement that checks (or trims) a candidate —
 * a checksum, a context rule. A refused candidate is tried again one character further on, so a
 * failed candidate never hides a real match that starts inside it.
 */
export function regexDetector(
  pattern: RegExp,
  options: {
    maxLength: number;
    replacement: string;
    refine?: (m: RegExpExecArray, text: string, work: ScanWork) => Match | undefined;
    triggers?: readonly string[];
    /** A cheap test every match needs to pass somewhere after `from` (a character it must contain). */
    requires?: RegExp;
  },
): DetectorSpec {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const requires = options.requires && new RegExp(options.requires.source, 'g');
  const { refine } = options;
  return {
    maxLength: options.maxLength,
    replacement: options.replacement,
    ...(options.triggers ? { triggers: options.triggers } : {}),
    next(text, from, work) {
      if (requires) {
        requires.lastIndex = from;
        if (!requires.test(text)) return undefined;
      }
      re.lastIndex = from;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const end = m.index + m[0].length;
        const found =
          m[0].length === 0 ? undefined : refine ? refine(m, text, work) : { start: m.index, end };
        if (found) return found;
        re.lastIndex = m.index + 1;
      }
      return undefined;
    },
  };
}

/**
 * A detector from a cluster user's pattern: RE2 semantics (re2js), so matching time is linear in the
 * text whatever the pattern. The pattern was checked when the config was validated.
 *
 * A match is at most `maxLength` characters, what the user declared: RE2 is shown the text a window
 * at a time (the window, plus room for a match to end), so a greedy match cannot run on through a
 * megabyte only to be cut, and a longer match is cut at `maxLength`. For a pattern whose matches
 * keep within `maxLength`, windows change nothing: every attempt that starts in a window ends, or
 * fails, inside what it is shown.
 */
export function userPatternDetector(pattern: string, maxLength: number, replacement: string): DetectorSpec {
  const re = RE2JS.compile(pattern);
  const window = Math.max(256, 2 * maxLength);
  const reach = maxLength + CONTEXT_AFTER;
  return {
    maxLength,
    replacement,
    next(text, from) {
      for (let at = from; at < text.length; at += window) {
        const end = Math.min(text.length, at + window + reach);
        // A prefix, so `^` and look-behind context (\b) keep their meaning; slicing one is free.
        const m = re.matcher(end === text.length ? text : text.slice(0, end));
        for (let pos = at; pos <= end && m.find(pos) && m.start() < at + window; pos = m.start() + 1) {
          if (m.end() > m.start()) return { start: m.start(), end: Math.min(m.end(), m.start() + maxLength) };
        }
      }
      return undefined;
    },
  };
}
