import type { CompiledGuard } from '../guard/compiled-guard.ts';
import type { Identifier } from '../identity/identify.ts';
import type { BudgetEnforcer } from '../ratelimit/budget-enforcer.ts';
import type { SecretStore } from '../secrets/secret-store.ts';

/** What AI requests need from the config being served; swapped as one value with each config. */
export interface AIContext {
  secrets: SecretStore;
  identifier: Identifier;
  enforcer: BudgetEnforcer;
  guards: readonly CompiledGuard[];
}
