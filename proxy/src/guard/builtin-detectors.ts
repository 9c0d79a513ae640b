import { isIPv6 } from 'node:net';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { BuiltinDetector } from '../config/guards.ts';
import { type DetectorSpec, type Match, regexDetector, type ScanWork } from './detector.ts';
import { privateKeyDetector } from './private-key-detector.ts';

/**
 * Built-in detectors. They run on normalised text (see ScanText) and are written to be linear in it:
 * every pattern starts with a look-behind that lets a match start only where a run of its characters
 * starts, quantifiers are bounded and unambiguous, and work after a refused candidate resumes one
 * character on, where the look-behind fails at once. `test/hostile/guard-redos.test.ts` holds the
 * crafted inputs that prove it. They are JavaScript regexes rather than RE2 because they need
 * look-behinds and because V8 runs them about twenty times faster than re2js on ordinary prompts;
 * cluster users' patterns, which nobody here has reviewed, run on RE2.
 */
export const BUILTINS: Readonly<Record<BuiltinDetector, DetectorSpec>> = {
  Email: regexDetector(
    /(?<![\p{L}\p{N}._%+'-])[\p{L}\p{N}._%+'-]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,5}(?:\p{L}{2,24}|xn--[a-z0-9-]{1,59})(?![\p{L}\p{N}-])/u,
    { maxLength: 64 + 1 + 5 * 64 + 59, replacement: '<EMAIL>', refine: emailRefine, requires: /@/ },
  ),
  Phone: regexDetector(/(?<![\w+#$€£.,/:-])(?:\+|\b00)?\(?\d[\d ().\-/]{5,20}\d(?![\w/:-]|[.,]\d)/, {
    maxLength: 26,
    replacement: '<PHONE>',
    requires: /\d\d/,
    refine: phoneRefine,
  }),
  CreditCard: regexDetector(
    /(?<![\w.-])(?<card>\d{4}(?<s1>[ -]?)\d{4}\k<s1>\d{4}\k<s1>\d{4}(?:\k<s1>\d{3})?|\d{4}(?<s2>[ -]?)\d{6}\k<s2>\d{4,5}|\d{4}(?<s3>[ -]?)\d{4}\k<s3>\d{4}\k<s3>\d{1,3}|\d{13,19})(?![\w-]|[.,]\d)(?<expiry>[ ,;]{1,3}(?:(?:exp(?:iry|ires)?|valid thru)\.?:? ?)?(?:0[1-9]|1[0-2]) ?\/ ?(?:20)?\d{2}(?!\d)(?:[ ,;]{1,3}(?:(?:cvc|cvv2?|cid|security code|code):? ?)?\d{3,4}(?!\d))?)?/i,
    { maxLength: 23 + 40, replacement: '<CREDIT_CARD>', refine: cardRefine, requires: /\d{4}/ },
  ),
  SSN: regexDetector(/(?<![\w.-])(\d{3})([ -])(\d{2})\2(\d{4})(?![\w-]|[.,]\d)/, {
    maxLength: 11,
    replacement: '<SSN>',
    requires: /\d{3}/,
    refine: (m) => {
      const area = Number(m[1]);
      const valid = area !== 0 && area !== 666 && area < 900 && m[3] !== '00' && m[4] !== '0000';
      return valid ? whole(m) : undefined;
    },
  }),
  IPv4: regexDetector(
    /(?<![\w.-])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w-]|\.\d)/,
    { maxLength: 15, replacement: '<IP_ADDRESS>', refine: ipv4Refine, requires: /\d\./ },
  ),
  IPv6: regexDetector(/(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{1,44}(?![\w:])/, {
    maxLength: 91,
    replacement: '<IP_ADDRESS>',
    requires: /[0-9A-Fa-f]:[0-9A-Fa-f:]|::/,
    refine: ipv6Refine,
  }),
  IBAN: regexDetector(
    /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/,
    {
      maxLength: 42,
      replacement: '<IBAN>',
      requires: /[A-Za-z]{2}\d\d/,
      refine: ibanRefine,
    },
  ),
  OpenAIKey: regexDetector(/(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250}/, {
    maxLength: 265,
    replacement: '<SECRET>',
    triggers: ['sk-'],
    requires: /sk-/,
  }),
  AnthropicKey: regexDetector(/(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,250}/, {
    maxLength: 257,
    replacement: '<SECRET>',
    triggers: ['sk-ant-'],
    requires: /sk-ant-/,
  }),
  AWSAccessKey: regexDetector(/(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])/, {
    maxLength: 20,
    replacement: '<SECRET>',
    triggers: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    requires: /A[KSBC][IC]A/,
  }),
  GitHubToken: regexDetector(/(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})/, {
    maxLength: 255,
    replacement: '<SECRET>',
    triggers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    requires: /gh[pousr]_|github_pat_/,
  }),
  SlackToken: regexDetector(/(?<![\w-])(?:xox[abprse](?:\.xox[abprse])?-|xapp-)[A-Za-z0-9-]{10,250}/, {
    maxLength: 260,
    replacement: '<SECRET>',
    triggers: ['xoxa', 'xoxb', 'xoxp', 'xoxr', 'xoxs', 'xoxe', 'xapp-'],
    requires: /xox|xapp-/,
  }),
  PrivateKey: privateKeyDetector,
  JWT: regexDetector(/(?<![\w.-])eyJ[A-Za-z0-9_-]{2,8192}\.eyJ[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{8,2048}/, {
    maxLength: 18_436,
    replacement: '<SECRET>',
    triggers: ['eyJ'],
    requires: /eyJ/,
  }),
};

const whole = (m: RegExpExecArray): Match => ({ start: m.index, end: m.index + m[0].length });

/** The words before a match, lower-cased: what context rules look at. */
function before(text: string, at: number, chars = 32): string {
  return text.slice(Math.max(0, at - chars), at).toLowerCase();
}

/** File names such as `icon@2x.png` look like addresses; their "domain" ends in a file extension. */
const ASSET_SUFFIX = /@\d+(?:\.\d+)?x\.|\.(?:png|jpe?g|gif|svg|webp|ico|bmp|tiff?|avif|heic)$/i;

function emailRefine(m: RegExpExecArray): Match | undefined {
  const local = m[0].slice(0, m[0].indexOf('@'));
  if (ASSET_SUFFIX.test(m[0]) || local.startsWith('.') || local.endsWith('.')) return undefined;
  return whole(m);
}

/** Words that say the digits that follow are not a phone number, unless a phone word is closer. */
const NOT_A_PHONE =
  /\b(?:order|invoice|ticket|ref(?:erence)?|id|account|acct|tracking|serial|sku|upc|ean|gtin|isbn|timestamp|ts|epoch|unix|build|version|case|po|item|part|batch|lot|transaction|txn|confirmation)\b[\s:#=.no-]*$|[#=]\s*$/;
const PHONE_WORD = /\b(?:phone|tel|telephone|call|mobile|cell|fax|whatsapp|sms|text me|ring|dial|contact)\b/;

function phoneRefine(m: RegExpExecArray, text: string, work: ScanWork): Match | undefined {
  const length = phoneLength(m[0]);
  if (length === 0) return undefined;
  const candidate = m[0].slice(0, length);
  const context = before(text, m.index);
  const nearPhoneWord = PHONE_WORD.test(context);
  if (NOT_A_PHONE.test(context) && !PHONE_WORD.test(context.slice(-16))) return undefined;
  // Without a country code or a separator, a bare run of digits is most often an id or a count.
  if (!/[ ().\-/]/.test(candidate) && !candidate.startsWith('+') && !nearPhoneWord) return undefined;
  if (DATE_SHAPE.test(candidate)) return undefined;
  return validPhone(candidate, work) ? { start: m.index, end: m.index + length } : undefined;
}

/**
 * How much of a run of digit groups has the shape of a phone number (0: none): 7 to 15 digits and,
 * without a country code, the North American plan. The run may go on past the number ("call 415
 * 555 0132 2 times"), so up to four groups are dropped from its end. One pass, no regex: candidates
 * are many in text full of numbers.
 */
function phoneLength(run: string): number {
  const international = run.charCodeAt(0) === 43 || run.startsWith('00');
  let digits = '';
  const groupEnds: [end: number, digits: number][] = [];
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    digits += run[i];
    const next = run.charCodeAt(i + 1);
    if (!(next >= 48 && next <= 57)) groupEnds.push([i + 1, digits.length]);
  }
  for (let k = groupEnds.length - 1; k >= 0 && k >= groupEnds.length - 5; k--) {
    const [end, count] = groupEnds[k]!;
    if (count < 7 || count > 15) continue;
    if (international || NANP.test(digits.slice(0, count))) return end;
  }
  return 0;
}

/** North American numbers: area code and exchange do not start with 0 or 1. */
const NANP = /^1?[2-9]\d\d[2-9]\d{6}$/;
const DATE_SHAPE = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/;

/** libphonenumber's validation (about 20 µs), within the text's budget; past it, the shape suffices. */
function validPhone(candidate: string, work: ScanWork): boolean {
  if (work.phoneChecks <= 0) return true;
  work.phoneChecks--;
  return parsePhoneNumberFromString(candidate.replace(/^00/, '+'), 'US')?.isValid() === true;
}

/** Card networks' numbers start with 2 to 6 (Mastercard 2-series, Amex, Visa, Mastercard, Discover). */
const CARD_IIN = /^[2-6]/;

function cardRefine(m: RegExpExecArray): Match | undefined {
  const digits = m.groups!.card!.replace(/\D/g, '');
  const valid = digits.length >= 13 && digits.length <= 19 && CARD_IIN.test(digits) && luhn(digits);
  if (!valid || /^(\d)\1+$/.test(digits)) return undefined;
  return whole(m);
}

/** `v1.2.3.4`, `version 10.0.19041.1`, `1.2.3.4-beta`: versions have the shape of addresses. */
const VERSION_BEFORE =
  /(?:\bv|\bver(?:sion)?s?|\brelease|\bbuild|\brev(?:ision)?|\bpatch|\bupdate|\bupgrade|\bnode|\bpython|\bjava|\bchrome|\bfirefox|\bsafari|\bedge|\bios|\bandroid|\bmacos|\bwindows|\bkernel|\bsdk|\bfirmware|\bsection|\bchapter|\bclause|\bfig(?:ure)?|\btable|\bstep|\brule|\bitem|\bparagraph|§|@)\s*[:=]?\s*$/;

function ipv4Refine(m: RegExpExecArray, text: string): Match | undefined {
  const after = text.slice(m.index + m[0].length, m.index + m[0].length + 8);
  if (VERSION_BEFORE.test(before(text, m.index, 16)) || /^(?:-|\+)?(?:alpha|beta|rc|dev|pre)/i.test(after))
    return undefined;
  return whole(m);
}

const TWO_HEX_GROUPS = /[0-9A-Fa-f][^:]*:+[0-9A-Fa-f]|[0-9A-Fa-f]{2}/;

function ipv6Refine(m: RegExpExecArray): Match | undefined {
  let candidate = m[0];
  if (!TWO_HEX_GROUPS.test(candidate)) return undefined;
  let start = m.index;
  // A sentence ends in a full stop; a list in a colon (but `::` is part of an address).
  while (candidate.endsWith('.') || (candidate.endsWith(':') && !candidate.endsWith('::')))
    candidate = candidate.slice(0, -1);
  while (candidate.startsWith(':') && !candidate.startsWith('::')) {
    candidate = candidate.slice(1);
    start++;
  }
  if (candidate.length > 45 || !isIPv6(candidate)) return undefined;
  // A real address names at least two groups; `::`, `::1` or `a::b` in code are scope operators.
  const groups = candidate.split(/:+/).filter((g) => g !== '');
  if (groups.length < 2 || (groups.length < 3 && groups.every((g) => g.length < 2))) return undefined;
  return { start, end: start + candidate.length };
}

/** The candidate, or without its last group: "pay GB82 WEST … 32 in time" ends in a word. */
function ibanRefine(m: RegExpExecArray): Match | undefined {
  const shorter = m[0].replace(/ [A-Za-z0-9]{1,4}$/, '');
  for (const candidate of shorter === m[0] ? [m[0]] : [m[0], shorter]) {
    const iban = candidate.replace(/ /g, '').toUpperCase();
    if (IBAN_LENGTHS[iban.slice(0, 2)] === iban.length && ibanValid(iban))
      return { start: m.index, end: m.index + candidate.length };
  }
  return undefined;
}

/** IBAN length by country (the SWIFT IBAN registry). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}
