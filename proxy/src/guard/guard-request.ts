import type { AIOperation } from '../client-api/operations.ts';
import type { GuardAction } from '../config/guards.ts';
import { type CompiledGuard, type Detector, normalize } from './compiled-guard.ts';
import { type Finding, mask, scan } from './scan.ts';

/** Where a detector fired: never the matched value itself. */
export interface GuardFinding {
  guard: string;
  detector: string;
  action: GuardAction;
  role: string;
  /** Index of the message (or prompt/input entry). */
  message: number;
  offset: number;
  length: number;
}

export type GuardVerdict =
  | { kind: 'reject'; guard: CompiledGuard; finding: GuardFinding; findings: GuardFinding[] }
  | { kind: 'pass'; findings: GuardFinding[] };

/** Text a guarded request may carry: 1 Mi characters bound the time one request can spend in guards. */
export const MAX_SCANNED_CHARS = 1_048_576;

export interface TextSlot {
  role: string;
  message: number;
  get(): string;
  set(text: string): void;
}

/**
 * Checks the request's text against the guards: deny-listed phrases, then detectors, all on the text
 * as the client sent it, so one guard's masking never hides what another guard rejects. Any Reject
 * refuses the request; otherwise Mask findings of every guard are applied together, in place; Audit
 * findings are only recorded.
 */
export function guardRequest(
  op: AIOperation,
  body: Record<string, unknown>,
  guards: readonly CompiledGuard[],
): GuardVerdict {
  const findings: GuardFinding[] = [];
  const slots = textSlots(op, body);
  // Scanning is linear in the text, but text is unbounded: past the cap the request is refused unread.
  const chars = slots.reduce((n, s) => n + s.get().length, 0);
  const guard = guards[0];
  if (guard && chars > MAX_SCANNED_CHARS) {
    const finding = {
      guard: guard.config.name,
      detector: 'SizeLimit',
      action: 'Reject' as const,
      role: '',
      message: 0,
      offset: MAX_SCANNED_CHARS,
      length: chars,
    };
    return { kind: 'reject', guard, finding, findings: [finding] };
  }
  for (const slot of slots) {
    const text = slot.get();
    // NFKC and case folding once per text, whatever the number of guards with a deny list.
    let normalized: string | undefined;
    const toMask: Finding[] = [];
    for (const guard of guards) {
      if (!guard.roles.has(slot.role)) continue;
      const record = (detector: string, action: GuardAction, offset: number, length: number) => {
        const finding = {
          guard: guard.config.name,
          detector,
          action,
          role: slot.role,
          message: slot.message,
          offset,
          length,
        };
        findings.push(finding);
        return finding;
      };
      if (guard.denyPhrases.length > 0) {
        normalized ??= normalize(text);
        for (const phrase of guard.denyPhrases) {
          const at = normalized.indexOf(phrase);
          if (at === -1) continue;
          const finding = record('DenyList', guard.config.denyList!.action, at, phrase.length);
          if (finding.action === 'Reject') return { kind: 'reject', guard, finding, findings };
        }
      }
      for (const f of scan(text, guard.detectors)) {
        const finding = record(f.detector.name, f.detector.action, f.start, f.end - f.start);
        if (f.detector.action === 'Reject') return { kind: 'reject', guard, finding, findings };
        if (f.detector.action === 'Mask') toMask.push(f);
      }
    }
    if (toMask.length > 0) slot.set(mask(text, nonOverlapping(toMask)));
  }
  return { kind: 'pass', findings };
}

/** Mask findings of several guards may overlap: keep the earliest, longest ones. */
function nonOverlapping(findings: Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Finding[] = [];
  let covered = 0;
  for (const f of sorted) {
    if (f.start < covered) continue;
    kept.push(f);
    covered = f.end;
  }
  return kept;
}

/** The texts of a request a guard looks at, each readable and rewritable in place. */
export function textSlots(op: AIOperation, body: Record<string, unknown>): TextSlot[] {
  if (op === 'chat') {
    const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
    return messages.flatMap((m, i): TextSlot[] => {
      const role = typeof m.role === 'string' ? m.role : '';
      if (typeof m.content === 'string') return [slot(role, i, m, 'content')];
      if (!Array.isArray(m.content)) return [];
      return (m.content as Record<string, unknown>[])
        .filter((p) => p.type === 'text' && typeof p.text === 'string')
        .map((p) => slot(role, i, p, 'text'));
    });
  }
  const field = op === 'completions' ? 'prompt' : 'input';
  const value = body[field];
  if (typeof value === 'string') return [slot('user', 0, body, field)];
  if (!Array.isArray(value)) return [];
  return value.flatMap((v, i): TextSlot[] => (typeof v === 'string' ? [slot('user', i, value, i)] : []));
}

/** A string held at `holder[key]` of the request body, read and rewritten in place. */
function slot(
  role: string,
  message: number,
  holder: Record<string, unknown> | unknown[],
  key: string | number,
): TextSlot {
  const cell = holder as Record<string | number, unknown>;
  return {
    role,
    message,
    get: () => cell[key] as string,
    set: (text) => {
      cell[key] = text;
    },
  };
}

/** Masks a non-streamed OpenAI-shaped answer in place with the guards' Mask detectors. */
export function maskResponse(body: Record<string, unknown>, maskers: readonly Detector[]): Finding[] {
  const findings: Finding[] = [];
  if (maskers.length === 0) return findings;
  const maskText = (text: string) => {
    const found = scan(text, maskers);
    findings.push(...found);
    return mask(text, found);
  };
  for (const choice of (body.choices ?? []) as Record<string, unknown>[]) {
    const message = choice.message as { content?: unknown } | undefined;
    if (message && typeof message.content === 'string') message.content = maskText(message.content);
    if (typeof choice.text === 'string') choice.text = maskText(choice.text);
  }
  return findings;
}
