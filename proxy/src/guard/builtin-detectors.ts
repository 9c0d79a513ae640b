import { isIPv6 } from 'node:net';
import type { BuiltinDetector } from '../config/guards.ts';

export interface DetectorDefinition {
  /** Global regex finding candidates; `validate` then rejects look-alikes. */
  pattern: RegExp;
  validate?: (match: string) => boolean;
  /** What a masked value becomes. */
  replacement: string;
  /** Longest text the pattern can match: how much a streamed answer must hold back. */
  maxLength: number;
}

/**
 * Built-in detectors: a bounded regex (no nested quantifiers, so linear in practice) plus a validator
 * for the shapes that have one — a 16-digit order number failing Luhn is no card, 000-12-3456 no SSN.
 */
export const BUILTINS: Readonly<Record<BuiltinDetector, DetectorDefinition>> = {
  Email: {
    pattern: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g,
    replacement: '<EMAIL>',
    maxLength: 730,
  },
  Phone: {
    // Not part of a longer run of digit groups (a card or account number is no phone number).
    pattern:
      /(?<![\w+]|\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w]|[ .-]\d)/g,
    validate: (m) => {
      const digits = m.replace(/\D/g, '').length;
      return digits >= 10 && digits <= 15;
    },
    replacement: '<PHONE>',
    maxLength: 25,
  },
  CreditCard: {
    pattern: /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g,
    validate: (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits);
    },
    replacement: '<CREDIT_CARD>',
    maxLength: 37,
  },
  SSN: {
    pattern: /(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])/g,
    validate: (m) => {
      const [area, group, serial] = m.split('-') as [string, string, string];
      const a = Number(area);
      return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
    },
    replacement: '<SSN>',
    maxLength: 11,
  },
  IPv4: {
    pattern: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g,
    validate: (m) => m.split('.').every((o) => Number(o) <= 255 && (o.length === 1 || !o.startsWith('0'))),
    replacement: '<IP_ADDRESS>',
    maxLength: 15,
  },
  IPv6: {
    // Candidates of hex groups and colons (compressed forms too); node:net decides what is an address.
    pattern: /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
    validate: (m) => isIPv6(m) && m.includes(':') && m.split(':').length >= 3,
    replacement: '<IP_ADDRESS>',
    maxLength: 45,
  },
  IBAN: {
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
    validate: (m) => ibanValid(m.replace(/ /g, '')),
    replacement: '<IBAN>',
    maxLength: 42,
  },
  OpenAIKey: {
    pattern: /(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}/g,
    replacement: '<SECRET>',
    maxLength: 211,
  },
  AnthropicKey: {
    pattern: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,200}/g,
    replacement: '<SECRET>',
    maxLength: 207,
  },
  AWSAccessKey: {
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])/g,
    replacement: '<SECRET>',
    maxLength: 20,
  },
  GitHubToken: {
    pattern: /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
    replacement: '<SECRET>',
    maxLength: 266,
  },
  SlackToken: {
    pattern: /(?<![\w])xox[abprs]-[A-Za-z0-9-]{10,200}/g,
    replacement: '<SECRET>',
    maxLength: 205,
  },
  PrivateKey: {
    pattern:
      /-----BEGIN (?:[A-Z]{1,10} ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\s:,-]{0,16384}?-----END (?:[A-Z]{1,10} ){0,3}PRIVATE KEY-----/g,
    replacement: '<PRIVATE_KEY>',
    maxLength: 16_500,
  },
  JWT: {
    pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{10,1024}/g,
    replacement: '<SECRET>',
    maxLength: 13_320,
  },
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
