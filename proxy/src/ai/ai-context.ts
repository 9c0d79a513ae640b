import type { GuardSet } from '../guard/guard-set.ts';
import type { Identifier } from '../identity/identify.ts';
import type { BudgetEnforcer } from '../ratelimit/budget-enforcer.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { CompiledAIBackend } from './compiled-backend.ts';

/** What AI requests need from the config being served; swapped as one value with each config. */
export interface AIContext {
  secrets: SecretStore;
  identifier: Identifier;
  enforcer: BudgetEnforcer;
  guards: GuardSet;
  /** Every AI backend of the config, by name (moderation checks call one directly). */
  aiBackends: ReadonlyMap<string, CompiledAIBackend>;
}
