import type { GuardAction, GuardConfig } from '../config/guards.ts';
import { BUILTINS } from './builtin-detectors.ts';

export interface Detector {
  /** The PromptGuard it belongs to (`namespace/name`), for metrics and audit records. */
  guard: string;
  name: string;
  action: GuardAction;
  pattern: RegExp;
  validate?: (match: string) => boolean;
  replacement: string;
  maxLength: number;
}

export interface CompiledGuard {
  config: GuardConfig;
  roles: ReadonlySet<string>;
  detectors: readonly Detector[];
  /** Detectors whose action is Mask: applied to completions when `maskResponses` is set. */
  maskers: readonly Detector[];
  denyPhrases: readonly string[];
}

/** Compiles a guard once per config: regexes built, deny-list phrases normalized. */
export function compileGuard(config: GuardConfig): CompiledGuard {
  const detectors: Detector[] = [
    ...config.builtins.map((b) => ({
      guard: config.name,
      name: b.detector,
      action: b.action,
      pattern: new RegExp(BUILTINS[b.detector].pattern.source, 'g'),
      ...(BUILTINS[b.detector].validate ? { validate: BUILTINS[b.detector].validate } : {}),
      replacement: BUILTINS[b.detector].replacement,
      maxLength: BUILTINS[b.detector].maxLength,
    })),
    ...config.regexes.map((r) => ({
      guard: config.name,
      name: r.name,
      action: r.action,
      pattern: new RegExp(r.pattern, 'gu'),
      replacement: r.replacement,
      maxLength: r.maxLength,
    })),
  ];
  return {
    config,
    roles: new Set(config.roles),
    detectors,
    maskers: detectors.filter((d) => d.action === 'Mask'),
    denyPhrases: (config.denyList?.phrases ?? []).map(normalize),
  };
}

/** Unicode-compatible, case-folded, single-spaced: how deny-list phrases and prompts are compared. */
export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ');
}
