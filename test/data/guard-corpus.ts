import type { BuiltinDetector } from '../../proxy/src/config/guards.ts';

/**
 * A labelled corpus for PromptGuard's built-in detectors: for each, values in many real formats
 * (positives), look-alikes that must not fire (hard negatives) and evasions (zero-width and format
 * characters, full-width forms, Cyrillic look-alikes, other dashes and spaces), each set in
 * sentences. `secrets` lists the exact substrings a detector must find; an empty list means nothing
 * may fire. Test data, not a test: `test/guard-corpus.test.ts` scores the detectors on it.
 */
export interface CorpusCase {
  detector: BuiltinDetector;
  kind: 'positive' | 'negative' | 'evasion';
  text: string;
  secrets: string[];
}

const ZW = '\u200b';
const ZWJ = '\u200d';
const SHY = '\u00ad';
const NBSP = '\u00a0';
/** Full-width forms of ASCII (U+FF01…U+FF5E): what NFKC folds back. */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const zeroWidthEvery = (s: string, n: number) => s.replace(new RegExp(`(.{${n}})`, 'gsu'), `$1${ZW}`);

const SENTENCES = [
  (v: string) => `Please reach out via ${v} if anything changes.`,
  (v: string) => `${v}`,
  (v: string) => `Customer record:\n  value: ${v}\n  status: active`,
  (v: string) => `{"field": "${v}", "note": "from the CRM export"}`,
];

/** Each value set in two sentences (chosen by its position, so the corpus is fixed). */
function cases(
  detector: BuiltinDetector,
  kind: CorpusCase['kind'],
  values: string[],
  label = true,
): CorpusCase[] {
  return values.flatMap((v, i) =>
    [SENTENCES[i % SENTENCES.length]!, SENTENCES[(i + 1) % SENTENCES.length]!].map((sentence) => ({
      detector,
      kind,
      text: sentence(v),
      secrets: label && kind !== 'negative' ? [v] : [],
    })),
  );
}

const EMAILS = [
  'jane.doe@example.com',
  'j.smith+newsletter@mail.example.co.uk',
  'first_last@sub.domain.org',
  'user123@gmail.com',
  "o'brien@example.ie",
  'a@b.io',
  'support@xn--bcher-kva.example',
  '用户@例子.广告',
  'josé@correo.es',
  'info@müller.de',
  'x.y-z@my-company.travel',
  'UPPER@EXAMPLE.COM',
  'mail@sub1.sub2.sub3.example.com',
  'ivan@пример.рф',
  'dev-team@company.io',
  'billing%ops@example.org',
  'n@example.technology',
  'alice.smith@university.edu',
  'bob@example.com.au',
  'carol_92@outlook.com',
];
const EMAIL_NEGATIVES = [
  'icon@2x.png',
  'logo@3x.jpg',
  'banner@1.5x.webp',
  'npm i @types/node',
  'thanks @username for the review',
  'user@localhost',
  'email at example dot com',
  'foo@bar',
  'install lodash@4.17.21',
  'name @ domain.com',
  '@media screen and (max-width: 600px)',
  'meet @ 5pm',
  'the regex is [a-z]+@[a-z]+',
  'ssh git@host',
];
const EMAIL_EVASIONS = [
  `ja${ZW}ne.doe@exam${ZWJ}ple.com`,
  fullWidth('jane.doe@example.com'),
  'jane.doe＠example.com',
  'jane@ехаmple.com',
  `jane.d${SHY}oe@example.com`,
];

const PHONES = [
  '+1 415 555 0132',
  '(415) 555-0132',
  '415-555-0132',
  '415.555.0132',
  '+1-212-555-0178',
  '+33 1 42 68 53 00',
  '+44 20 7946 0958',
  '+81 3-1234-5678',
  '+49 30 901820',
  '+61 2 9374 4000',
  '+91 98765 43210',
  '+86 10 6552 9988',
  '+34 912 34 56 78',
  '1-800-555-0199',
  '+1.415.555.0132',
  '0044 20 7946 0958',
  '+1 (646) 555-0143',
  '+27 21 460 9111',
  '+55 11 3456-7890',
  '+7 495 123-45-67',
];
const PHONE_NEGATIVES = [
  'order 4155550132 shipped',
  'invoice #2125551234 is due',
  'timestamp 1700000000 in the log',
  'UPC 036000291452 on the box',
  'AWS account 123456789012',
  'ISBN 978-3-16-148410-0',
  'on 2026-11-27 at noon',
  'on 27/11/2026 at noon',
  'at 12:30:45 UTC',
  'costs $1,234,567.89',
  'build 10.0.19041.1',
  'zip 94103-1234',
  'pi is 3.14159265358',
  'located at 37.7749, -122.4194',
  'PIN 123456',
  'ref 555-0132',
  'serial 2023-11-27-001',
  'ticket 4155550132',
  'count 1000000 rows',
  'id=2125551234',
];
const PHONE_EVASIONS = [
  fullWidth('+1 415 555 0132'),
  `+1 415${ZW} 555 0132`,
  `(415)${NBSP}555-0132`,
  '415‐555‐0132',
  `+44${NBSP}20${NBSP}7946${NBSP}0958`,
];

const CARDS = [
  '4111 1111 1111 1111',
  '4111-1111-1111-1111',
  '4111111111111111',
  '5500 0000 0000 0004',
  '3400 000000 00009',
  '378282246310005',
  '6011 1111 1111 1117',
  '3530 1113 3330 0000',
  '4242 4242 4242 4242',
  '5555 5555 5555 4444',
  '4000 0566 5566 5556',
  '4012888888881881',
  '3056 930902 5904',
  '6200000000000005',
  '2223 0031 2200 3222',
  '5105 1051 0510 5100',
];
const CARD_NEGATIVES = [
  'order 4111 1111 1111 1112',
  'ref 1234 5678 9012 3456',
  'placeholder 0000 0000 0000 0000',
  'ms timestamp 1700000000000',
  'tracking 9400111899223100000000',
  'batch 1111 2222 3333 4444',
  'account 12345678901234',
  'id 9999999999999995',
];
const CARD_EVASIONS = [
  fullWidth('4111 1111 1111 1111'),
  `4111${ZW}1111${ZW}1111${ZW}1111`,
  '4111‐1111‐1111‐1111',
  `4111${NBSP}1111${NBSP}1111${NBSP}1111`,
];

const SSNS = [
  '123-45-6789',
  '078-05-1120',
  '219-09-9999',
  '123 45 6789',
  '536-22-1234',
  '457-55-5462',
  '001-01-0001',
  '899-99-9999',
  '321-54-9876',
  '665-12-3456',
];
const SSN_NEGATIVES = [
  'ref 000-12-3456',
  'ref 666-12-3456',
  'ref 912-34-5678',
  'ref 123-00-4567',
  'ref 123-45-0000',
  'ref 12-3456-789',
  'on 2026-11-27',
  'code 12-345-6789',
  'zip 94103-1234',
  'part 1234-56-789',
];
const SSN_EVASIONS = [
  '123–45–6789',
  '234—56—7890',
  `123${ZW}-45-6789`,
  fullWidth('123-45-6789'),
  `123${NBSP}45${NBSP}6789`,
];

const IPV4S = [
  '10.20.30.40',
  '192.168.1.1',
  '172.16.254.3',
  '8.8.8.8',
  '255.255.255.255',
  '203.0.113.7',
  '198.51.100.23',
  '127.0.0.1',
  '1.1.1.1',
  '100.64.0.10',
];
const IPV4_NEGATIVES = [
  'version 1.2.3.4',
  'v10.0.0.1',
  'Chrome/120.0.6099.109',
  'bad 999.1.1.1',
  'bad 10.20.300.40',
  'semver 1.2.3',
  'dotted 1.2.3.4.5',
  'release 2.0.0.1',
  'section 4.2.1.3',
  'python 3.11.4.1',
  'firmware 5.1.0.22',
  'lodash@4.17.21.1',
];
const IPV4_EVASIONS = [fullWidth('10.20.30.40'), `10.20${ZW}.30.40`, '10．20．30．40'];

const IPV6S = [
  '2001:db8::8a2e:370:7334',
  '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
  'fe80::1ff:fe23:4567:890a',
  '::ffff:192.0.2.128',
  '2001:db8::1',
  '2606:4700:4700::1111',
  'fe80::1',
  'ff02::1',
  '2001:db8:0:0:1:0:0:1',
  '2a00:1450:4001:81b::200e',
];
const IPV6_NEGATIVES = [
  'std::vector<int>',
  'call a::b here',
  'use Foo::bar()',
  'slice x[::2]',
  'map :: Int -> Int',
  'the :: operator',
  'at 12:30:45',
  'mac 00:1A:2B:3C:4D:5E',
  'css a::before',
  'ratio 16:9',
  'at 2026-11-27T10:20:30Z',
  'tag dead:beef',
];
const IPV6_EVASIONS = [fullWidth('2001:db8::1'), `2001:db8${ZW}::8a2e:370:7334`];

const IBANS = [
  'GB82 WEST 1234 5698 7654 32',
  'GB82WEST12345698765432',
  'DE89 3704 0044 0532 0130 00',
  'FR14 2004 1010 0505 0001 3M02 606',
  'ES91 2100 0418 4502 0005 1332',
  'NL91 ABNA 0417 1643 00',
  'IT60 X054 2811 1010 0000 0123 456',
  'CH93 0076 2011 6238 5295 7',
  'BE68 5390 0754 7034',
  'AT61 1904 3002 3457 3201',
  'NO93 8601 1117 947',
  'PL61 1090 1014 0000 0712 1981 2874',
  'SE45 5000 0000 0583 9825 7466',
  'DK50 0040 0440 1162 43',
  'gb82west12345698765432',
];
const IBAN_NEGATIVES = [
  'GB82 WEST 1234 5698 7654 33',
  'DE89 3704 0044 0532 0130 01',
  'AB12 CDEF GHIJ KLMN',
  'US12 3456 7890 1234',
  'postcode SW1A 1AA',
  'ISO 8601 and RFC 2616',
  'code XY99 ABCD EFGH',
  'part NL91 ABNA',
];
const IBAN_EVASIONS = [
  `GB82${ZWJ}WEST12345698765432`,
  fullWidth('GB82WEST12345698765432'),
  `DE89${NBSP}3704${NBSP}0044${NBSP}0532${NBSP}0130${NBSP}00`,
];

const OPENAI_KEYS = [
  'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12',
  'sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD',
  'sk-svcacct-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe',
  'sk-admin-0123456789abcdefghijABCDEFGHIJ',
  'sk-proj-T3BlbkFJ_aB-cD_eF-gH_iJ-kL_mN-oP',
  'sk-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk',
];
const OPENAI_NEGATIVES = [
  'use the sk-learn library',
  'the prefix sk- alone',
  'a task-force',
  'risk-free',
  'desk-lamp-1234567890abcdefghij',
  'sk-short',
];
const OPENAI_EVASIONS = [
  `sk-proj-AbCdEf${SHY}GhIjKlMnOpQrStUvWx12`,
  `sk-proj-AbCdEfGh${ZW}IjKlMnOpQrStUvWx12`,
  'ѕk-proj-AbCdEfGhIjKlMnOpQrStUvWx12',
  fullWidth('sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12'),
];

const ANTHROPIC_KEYS = [
  'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv',
  'sk-ant-admin01-0123456789abcdefghijKLMNOP',
  'sk-ant-api03-Zx9_Yw8-Vu7_Ts6-Rq5_Po4-Nm3',
  'sk-ant-oat01-abcdefghijklmnopqrstuvwxyz012345',
];
const ANTHROPIC_NEGATIVES = [
  'sk-ant-short',
  'the sk-ant- prefix',
  'an elephant-sk-ant-abcdefghijklmnopqrstuvwxyz',
];
const ANTHROPIC_EVASIONS = [
  `sk-ant-api03-AbCd${ZW}EfGhIjKlMnOpQrStUv`,
  'ѕk-аnt-api03-AbCdEfGhIjKlMnOpQrStUv',
];

const AWS_KEYS = [
  'AKIAIOSFODNN7EXAMPLE',
  'ASIAY34FZKBOKMUTVV7A',
  'AKIA2OGYBAH6Q3EXAMPL',
  'AKIAJ7Q2ZRX4T5UVW6YZ',
  'ABIA0123456789ABCDEF',
];
const AWS_NEGATIVES = [
  'AKIA1234',
  'AKIAIOSFODNN7EXAMPLEX',
  'akiaiosfodnn7example',
  'key AKIA IOSFODNN7EXAMPLE',
  'ID: XKIAIOSFODNN7EXAMPLE',
];
const AWS_EVASIONS = [`AKIA${ZW}IOSFODNN7EXAMPLE`, 'АKIAIOSFODNN7EXAMPLE', fullWidth('AKIAIOSFODNN7EXAMPLE')];

const GITHUB_TOKENS = [
  'ghp_0123456789abcdefghijklmnopqrstuvwxyz',
  'gho_16C7e42F292c6912E7710c838347Ae178B4a',
  'ghu_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  'ghs_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210',
  'ghr_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz',
  'github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS',
];
const GITHUB_NEGATIVES = [
  'ghp_short',
  'the ghp_ prefix',
  'github_pat_',
  'hghp_0123456789abcdefghijklmnopqrstuvwxyz',
];
const GITHUB_EVASIONS = [
  `ghp_0123456789${ZW}abcdefghijklmnopqrstuvwxyz`,
  'ghр_0123456789abcdefghijklmnopqrstuvwxyz',
];

const SLACK_TOKENS = [
  'xoxb-1234567890-abcdefghij',
  'xoxp-1234567890-1234567890-1234567890-abcdef1234567890abcdef1234567890',
  'xoxa-2-1234567890-abcdefghijklmnop',
  'xoxr-1234567890-abcdefghijKLMNOP',
  'xoxs-1234567890-0987654321-abcdefghij',
  'xoxe-1-My0xLTEyMzQ1Njc4OTAtYWJjZGVm',
  'xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtYWJj',
  'xapp-1-A0123456789-0123456789-abcdef',
];
const SLACK_NEGATIVES = [
  'xoxo hugs and kisses',
  'the xox- prefix',
  'xoxb-short',
  'boxoxb-1234567890-abcdefghij',
];
const SLACK_EVASIONS = [`xoxb-1234567890-${ZW}abcdefghij`, 'хoxb-1234567890-abcdefghij'];

const PEM_BODY =
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu';
const PRIVATE_KEYS = [
  `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`,
  `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`,
  `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oXpSI2BrJvcqoAoGCCqGSM49\n-----END EC PRIVATE KEY-----`,
  `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----`,
  `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${PEM_BODY}\n-----END ENCRYPTED PRIVATE KEY-----`,
  `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF0...${PEM_BODY}\n=twTO\n-----END PGP PRIVATE KEY BLOCK-----`,
  `-----BEGIN PRIVATE KEY-----\\n${PEM_BODY.replace('\n', '\\n')}\\n-----END PRIVATE KEY-----`,
  `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}`,
];
const PRIVATE_KEY_NEGATIVES = [
  `-----BEGIN PUBLIC KEY-----\n${PEM_BODY}\n-----END PUBLIC KEY-----`,
  `-----BEGIN CERTIFICATE-----\n${PEM_BODY}\n-----END CERTIFICATE-----`,
  'the header -----BEGIN PRIVATE KEY----- starts a key',
  'a private key is secret',
];
const PRIVATE_KEY_EVASIONS = [
  `-----BEGIN${NBSP}PRIVATE KEY-----\n${PEM_BODY}\n-----END${NBSP}PRIVATE KEY-----`,
  `-----BEGIN PRIVATE${ZW} KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`,
];

const JWTS = [
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiYXVkIjoiYXBpIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU',
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.MEUCIQDa2sM1mXqF8Ls3hJh4yQ_v0aW',
];
const JWT_NEGATIVES = [
  'the header eyJhbGciOi alone',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0',
  'abc.def.ghi',
  'aGVsbG8.d29ybGQ.Zm9vYmFy',
];
const JWT_EVASIONS = [
  `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0${ZW}.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`,
  zeroWidthEvery(
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    10,
  ),
];

export const CORPUS: readonly CorpusCase[] = [
  ...cases('Email', 'positive', EMAILS),
  ...cases('Email', 'negative', EMAIL_NEGATIVES),
  ...cases('Email', 'evasion', EMAIL_EVASIONS),
  ...cases('Phone', 'positive', PHONES),
  ...cases('Phone', 'negative', PHONE_NEGATIVES),
  ...cases('Phone', 'evasion', PHONE_EVASIONS),
  ...cases('CreditCard', 'positive', CARDS),
  ...cases('CreditCard', 'positive', ['4111 1111 1111 1111 12/28 123', '5105105105105100 exp 04/27 cvc 321']),
  ...cases('CreditCard', 'negative', CARD_NEGATIVES),
  ...cases('CreditCard', 'evasion', CARD_EVASIONS),
  ...cases('SSN', 'positive', SSNS),
  ...cases('SSN', 'negative', SSN_NEGATIVES),
  ...cases('SSN', 'evasion', SSN_EVASIONS),
  ...cases('IPv4', 'positive', IPV4S),
  ...cases('IPv4', 'negative', IPV4_NEGATIVES),
  ...cases('IPv4', 'evasion', IPV4_EVASIONS),
  ...cases('IPv6', 'positive', IPV6S),
  ...cases('IPv6', 'negative', IPV6_NEGATIVES),
  ...cases('IPv6', 'evasion', IPV6_EVASIONS),
  ...cases('IBAN', 'positive', IBANS),
  ...cases('IBAN', 'negative', IBAN_NEGATIVES),
  ...cases('IBAN', 'evasion', IBAN_EVASIONS),
  ...cases('OpenAIKey', 'positive', OPENAI_KEYS),
  ...cases('OpenAIKey', 'negative', OPENAI_NEGATIVES),
  ...cases('OpenAIKey', 'evasion', OPENAI_EVASIONS),
  ...cases('AnthropicKey', 'positive', ANTHROPIC_KEYS),
  ...cases('AnthropicKey', 'negative', ANTHROPIC_NEGATIVES),
  ...cases('AnthropicKey', 'evasion', ANTHROPIC_EVASIONS),
  ...cases('AWSAccessKey', 'positive', AWS_KEYS),
  ...cases('AWSAccessKey', 'negative', AWS_NEGATIVES),
  ...cases('AWSAccessKey', 'evasion', AWS_EVASIONS),
  ...cases('GitHubToken', 'positive', GITHUB_TOKENS),
  ...cases('GitHubToken', 'negative', GITHUB_NEGATIVES),
  ...cases('GitHubToken', 'evasion', GITHUB_EVASIONS),
  ...cases('SlackToken', 'positive', SLACK_TOKENS),
  ...cases('SlackToken', 'negative', SLACK_NEGATIVES),
  ...cases('SlackToken', 'evasion', SLACK_EVASIONS),
  ...cases('PrivateKey', 'positive', PRIVATE_KEYS),
  ...cases('PrivateKey', 'negative', PRIVATE_KEY_NEGATIVES),
  ...cases('PrivateKey', 'evasion', PRIVATE_KEY_EVASIONS),
  ...cases('JWT', 'positive', JWTS),
  ...cases('JWT', 'negative', JWT_NEGATIVES),
  ...cases('JWT', 'evasion', JWT_EVASIONS),
];
