import type { GuardConfig } from '../config/guards.ts';
import { BUILTINS } from './builtin-detectors.ts';
import { type Detector, userPatternDetector } from './detector.ts';

export type { Detector } from './detector.ts';

export interface CompiledGuard {
  config: GuardConfig;
  /** Roles checked, lower-cased (see `roleOf` for how a request's texts get their role). */
  roles: ReadonlySet<string>;
  detectors: readonly Detector[];
  /** Detectors whose action is Mask: applied to completions when `maskResponses` is set. */
  maskers: readonly Detector[];
  denyPhrases: readonly string[];
}

/** Compiles a guard once per config: patterns built, deny-list phrases normalised. */
export function compileGuard(config: GuardConfig): CompiledGuard {
  const detectors: Detector[] = [
    ...config.builtins.map((b) => ({
      ...BUILTINS[b.detector],
      guard: config.name,
      name: b.detector,
      action: b.action,
    })),
    ...config.regexes.map((r) => ({
      ...userPatternDetector(r.pattern, r.maxLength, r.replacement),
      guard: config.name,
      name: r.name,
      action: r.action,
    })),
  ];
  return {
    config,
    roles: new Set(config.roles.map((r) => r.toLowerCase())),
    detectors,
    maskers: detectors.filter((d) => d.action === 'Mask'),
    denyPhrases: (config.denyList?.phrases ?? []).map(normalize),
  };
}

/** Unicode-compatible, case-folded, single-spaced: how deny-list phrases and prompts are compared. */
export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ');
}
