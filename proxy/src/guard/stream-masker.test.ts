import { describe, expect, it } from 'vitest';
import { maskAtOnce } from '../../../test/support/whole-text-masking.ts';
import type { GuardConfig } from '../config/guards.ts';
import { compileGuard } from './compiled-guard.ts';
import { StreamMasker } from './stream-masker.ts';

const guard = compileGuard({
  name: 'default/g',
  scope: { kind: 'Gateway' },
  roles: ['user'],
  builtins: (['Email', 'CreditCard', 'SSN', 'OpenAIKey', 'IPv4', 'Phone', 'IBAN'] as const).map(
    (detector) => ({
      detector,
      action: 'Mask' as const,
    }),
  ),
  regexes: [
    { name: 'order', pattern: 'ORD-[0-9]{6}', action: 'Mask', replacement: '<ORDER>', maxLength: 10 },
  ],
  maskResponses: true,
  rejection: { status: 400, message: 'no' },
} satisfies GuardConfig);

const SECRETS = [
  'jane.doe+test@example.co.uk',
  '4111 1111 1111 1111',
  '123-45-6789',
  'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
  '192.168.10.254',
  '+1 (415) 555-0132',
  'DE89 3704 0044 0532 0130 00',
  'ORD-123456',
];
const COMPLETION = `Dear customer, we reached ${SECRETS[0]} about card ${SECRETS[1]} (SSN ${SECRETS[2]}).
Your key ${SECRETS[3]} was used from ${SECRETS[4]}; call ${SECRETS[5]} or pay to ${SECRETS[6]} for order ${SECRETS[7]}.
An order number 4111 1111 1111 1112 fails Luhn and 000-12-3456 is no SSN, so both stay.`;

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('StreamMasker', () => {
  const whole = maskAtOnce(COMPLETION, guard.maskers);

  it('masks what a whole-text scan masks, and keeps look-alikes', () => {
    for (const secret of SECRETS) expect(whole).not.toContain(secret);
    expect(whole).toContain('4111 1111 1111 1112');
    expect(whole).toContain('000-12-3456');
    expect(whole).toContain('<CREDIT_CARD>');
    expect(whole).toContain('<ORDER>');
  });

  it('gives the same masked text for 300 random chunkings and never emits a secret, even in part', () => {
    const next = random(7);
    for (let run = 0; run < 300; run++) {
      const masker = new StreamMasker(guard.maskers);
      let emitted = '';
      for (let at = 0; at < COMPLETION.length; ) {
        const size = 1 + Math.floor(next() * (run % 3 === 0 ? 3 : 40));
        emitted += masker.push(COMPLETION.slice(at, at + size));
        at += size;
        // No prefix sent so far may contain a secret, nor end inside one.
        for (const secret of SECRETS) {
          expect(emitted).not.toContain(secret);
          for (let k = Math.min(secret.length - 1, 8); k >= 6; k--)
            expect(emitted.endsWith(secret.slice(0, k)) && !whole.includes(secret.slice(0, k))).toBe(false);
        }
      }
      emitted += masker.flush();
      expect(emitted).toBe(whole);
    }
  });
});
