import { BUILTIN_DETECTORS, type GuardConfig } from '../../proxy/src/config/guards.ts';
import { type CompiledGuard, compileGuard } from '../../proxy/src/guard/compiled-guard.ts';

/** Every built-in detector, masking. */
export const MASK_EVERY_BUILTIN = BUILTIN_DETECTORS.map((detector) => ({
  detector,
  action: 'Mask' as const,
}));

/** A compiled Gateway-wide guard for unit tests: nothing checked unless `config` says so. */
export function testGuard(config: Partial<GuardConfig>): CompiledGuard {
  return compileGuard({
    name: 'default/g',
    scope: { kind: 'Gateway' },
    roles: ['user'],
    builtins: [],
    regexes: [],
    maskResponses: false,
    rejection: { status: 400, message: 'no' },
    ...config,
  });
}
