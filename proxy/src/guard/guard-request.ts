import type { AIOperation } from '../client-api/operations.ts';
import type { GuardAction } from '../config/guards.ts';
import { type CompiledGuard, type Detector, normalize } from './compiled-guard.ts';
import { type NotText, requestTexts, TextCollector, type TextSlot } from './request-texts.ts';
import type { Finding } from './scan.ts';
import { type ScannedText, scanWhole } from './scan-whole.ts';

/** Where a detector fired: never the matched value itself. */
export interface GuardFinding {
  guard: string;
  detector: string;
  action: GuardAction;
  role: string;
  /** Index of the message (or prompt/input entry). */
  message: number;
  /** Offset in the message's text (its text parts joined) and length, in the original text. */
  offset: number;
  length: number;
}

export type GuardVerdict =
  | { kind: 'reject'; guard: CompiledGuard; finding: GuardFinding; findings: GuardFinding[] }
  | { kind: 'invalid'; problem: NotText }
  | { kind: 'pass'; findings: GuardFinding[] };

/** Text a guarded request may carry: 1 Mi characters bound the time one request can spend in guards. */
export const MAX_SCANNED_CHARS = 1_048_576;

/**
 * Checks the request's texts against the guards: deny-listed phrases, then detectors, all on the
 * text as the client sent it (normalised once per text for every guard), so one guard's masking
 * never hides what another guard rejects. Any Reject refuses the request; otherwise Mask findings of
 * every guard are applied together, in place; Audit findings are only recorded.
 */
export async function guardRequest(
  op: AIOperation,
  body: Record<string, unknown>,
  guards: readonly CompiledGuard[],
  byRole: GuardsByRole = guardsByRole(guards),
): Promise<GuardVerdict> {
  const findings: GuardFinding[] = [];
  const slots = requestTexts(op, body);
  if (!Array.isArray(slots)) return { kind: 'invalid', problem: slots };
  const guard = guards[0];
  // Scanning is linear in the text, but text is unbounded: past the cap the request is refused unread.
  const chars = slots.reduce((n, s) => n + s.get().length, 0);
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
  for (const text of byGroup(slots)) {
    const role = text[0]!.role;
    const forRole = byRole.get(role);
    if (!forRole) continue;
    const { guards: applicable, detectors } = forRole;
    const original = text.map((s) => s.get()).join('');
    const scanned = await scanWhole(original, detectors);
    let folded: string | undefined;
    const record = (guard: CompiledGuard, detector: string, action: GuardAction, span: [number, number]) => {
      const finding = {
        guard: guard.config.name,
        detector,
        action,
        role,
        message: text[0]!.message,
        offset: span[0],
        length: span[1] - span[0],
      };
      findings.push(finding);
      return finding;
    };
    for (const g of applicable) {
      if (g.denyPhrases.length === 0) continue;
      folded ??= normalize(scanned.scan.scanned.text);
      for (const phrase of g.denyPhrases) {
        const at = folded.indexOf(phrase);
        if (at === -1) continue;
        const finding = record(g, 'DenyList', g.config.denyList!.action, [at, at + phrase.length]);
        if (finding.action === 'Reject') return { kind: 'reject', guard: g, finding, findings };
      }
    }
    const toMask: Finding[] = [];
    for (const f of scanned.findings) {
      const g = applicable.find((x) => x.config.name === f.detector.guard)!;
      const finding = record(g, f.detector.name, f.detector.action, scanned.scan.toOriginal(f.start, f.end));
      if (f.detector.action === 'Reject') return { kind: 'reject', guard: g, finding, findings };
      if (f.detector.action === 'Mask') toMask.push(f);
    }
    if (toMask.length > 0) maskSlots(text, scanned, toMask);
  }
  return { kind: 'pass', findings };
}

/** For each role some guard checks: those guards and all their detectors, scanned as one pass. */
export type GuardsByRole = ReadonlyMap<string, { guards: CompiledGuard[]; detectors: Detector[] }>;

/** Worked out once per route when the config is compiled (GuardSet), not per request. */
export function guardsByRole(guards: readonly CompiledGuard[]): GuardsByRole {
  const roles = new Set(guards.flatMap((g) => [...g.roles]));
  return new Map(
    [...roles].map((role) => {
      const applicable = guards.filter((g) => g.roles.has(role));
      return [role, { guards: applicable, detectors: applicable.flatMap((g) => g.detectors) }];
    }),
  );
}

/** Slots in groups (one text each), in request order. */
function byGroup(slots: readonly TextSlot[]): TextSlot[][] {
  const groups = new Map<number, TextSlot[]>();
  for (const s of slots) {
    const g = groups.get(s.group);
    if (g) g.push(s);
    else groups.set(s.group, [s]);
  }
  return [...groups.values()];
}

/**
 * Applies Mask findings of a text made of several slots: each finding's replacement goes where it
 * starts, and the rest of its span is cut from the slots it runs into.
 */
function maskSlots(text: readonly TextSlot[], scanned: ScannedText, findings: readonly Finding[]): void {
  const spans = findings.map((f) => ({
    span: scanned.scan.toOriginal(f.start, f.end),
    replacement: f.detector.replacement,
  }));
  let offset = 0;
  for (const slot of text) {
    const value = slot.get();
    const start = offset;
    const end = offset + value.length;
    offset = end;
    let out = '';
    let at = start;
    for (const { span, replacement } of spans) {
      if (span[1] <= start || span[0] >= end) continue;
      const from = Math.max(span[0], start);
      out += value.slice(at - start, from - start);
      if (span[0] >= start) out += replacement;
      at = Math.min(span[1], end);
    }
    out += value.slice(at - start);
    if (out !== value) slot.set(out);
  }
}

/** Masks a non-streamed OpenAI-shaped answer in place with the guards' Mask detectors. */
export async function maskResponse(
  body: Record<string, unknown>,
  maskers: readonly Detector[],
): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (maskers.length === 0) return findings;
  for (const slot of answerTexts(body)) {
    const original = slot.get();
    const scanned = await scanWhole(original, maskers);
    if (scanned.findings.length === 0) continue;
    findings.push(...scanned.findings);
    maskSlots([slot], scanned, scanned.findings);
  }
  return findings;
}

/** The texts of an answer: each choice's message (content, refusal, reasoning, tool calls) or text. */
function answerTexts(body: Record<string, unknown>): TextSlot[] {
  const texts = new TextCollector();
  const choices = Array.isArray(body.choices) ? body.choices : [];
  choices.forEach((c: Record<string, unknown>, i) => {
    if (typeof c !== 'object' || c === null) return;
    if (typeof c.message === 'object' && c.message !== null)
      texts.message(c.message as Record<string, unknown>, i, `/choices/${i}/message`, 'assistant');
    texts.string('assistant', i, c, 'text', `/choices/${i}/text`);
  });
  return texts.all;
}
