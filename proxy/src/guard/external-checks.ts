import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { AIOperation } from '../client-api/operations.ts';
import type { SecretRef, SecretStore } from '../secrets/secret-store.ts';
import type { CompiledGuard } from './compiled-guard.ts';
import { requestTexts, type TextSlot } from './request-texts.ts';

export type ExternalVerdict =
  | { kind: 'allow'; masked: number }
  | { kind: 'reject'; guard: CompiledGuard; check: 'Webhook' | 'Moderation'; reason: string };

export interface ExternalContext {
  aiBackends: ReadonlyMap<string, ModerationBackend>;
  secrets: SecretStore;
}

interface WebhookAnswer {
  verdict?: 'allow' | 'deny' | 'mask';
  reason?: string;
  /** With `mask`: new content for the texts sent, by their index. */
  replacements?: { index: number; content: string }[];
}

/**
 * The guards' external checks, after the built-in ones: a webhook (allow / deny / mask with
 * replacements) and a moderation endpoint. A timeout or error follows the check's failure mode.
 */
export async function runExternalChecks(
  op: AIOperation,
  body: Record<string, unknown>,
  guards: readonly CompiledGuard[],
  ctx: ExternalContext,
): Promise<ExternalVerdict> {
  let masked = 0;
  for (const guard of guards) {
    const texts = requestTexts(op, body);
    const slots = (Array.isArray(texts) ? texts : []).filter((s) => guard.roles.has(s.role));
    if (slots.length === 0) continue;
    const webhook = guard.config.webhook;
    if (webhook) {
      const answer = await callWebhook(webhook.url, webhook.timeoutMs, guard.config.name, body.model, slots);
      if (!answer.ok) {
        if (webhook.failureMode === 'FailClosed')
          return { kind: 'reject', guard, check: 'Webhook', reason: `webhook unavailable: ${answer.error}` };
      } else if (answer.value.verdict === 'deny') {
        return {
          kind: 'reject',
          guard,
          check: 'Webhook',
          reason: answer.value.reason ?? 'denied by webhook',
        };
      } else if (answer.value.verdict === 'mask') {
        for (const r of answer.value.replacements ?? []) {
          const slot = slots[r.index];
          if (slot && typeof r.content === 'string') {
            slot.set(r.content);
            masked++;
          }
        }
      }
    }
    const moderation = guard.config.moderation;
    if (moderation) {
      const backend = ctx.aiBackends.get(moderation.aiBackend);
      const result = backend
        ? await moderate(backend, ctx.secrets, moderation.model, slots, moderation.timeoutMs)
        : { ok: false as const, error: `AI backend ${moderation.aiBackend} not found` };
      if (!result.ok) {
        if (moderation.failureMode === 'FailClosed')
          return {
            kind: 'reject',
            guard,
            check: 'Moderation',
            reason: `moderation unavailable: ${result.error}`,
          };
        continue;
      }
      const flagged = Object.entries(result.value).filter(
        ([category, score]) =>
          (moderation.categories.length === 0 || moderation.categories.includes(category)) &&
          score >= moderation.threshold,
      );
      if (flagged.length > 0)
        return {
          kind: 'reject',
          guard,
          check: 'Moderation',
          reason: `flagged: ${flagged.map(([c]) => c).join(', ')}`,
        };
    }
  }
  return { kind: 'allow', masked };
}

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

async function callWebhook(
  url: string,
  timeoutMs: number,
  guard: string,
  model: unknown,
  slots: TextSlot[],
): Promise<Result<WebhookAnswer>> {
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        guard,
        model,
        messages: slots.map((s, index) => ({ index, role: s.role, content: s.get() })),
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { ok: false, error: `status ${res.statusCode}` };
    }
    return { ok: true, value: (await res.body.json()) as WebhookAnswer };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * What a moderation check needs of an AIBackend: its first target's endpoint, path and credential.
 * Structural, so guards do not depend on the AI folder that calls them.
 */
export interface ModerationBackend {
  groups: readonly (readonly {
    config: { credentials?: SecretRef | undefined };
    endpoint: { pool: Dispatcher };
    basePath: string;
  }[])[];
}

async function moderate(
  backend: ModerationBackend,
  secrets: SecretStore,
  model: string,
  slots: TextSlot[],
  timeoutMs: number,
): Promise<Result<Record<string, number>>> {
  const target = backend.groups[0]?.[0];
  if (!target) return { ok: false, error: 'no target' };
  const key = secrets.get(target.config.credentials);
  try {
    const res = await target.endpoint.pool.request({
      path: `${target.basePath}/moderations`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model, input: slots.map((s) => s.get()) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { ok: false, error: `status ${res.statusCode}` };
    }
    const json = (await res.body.json()) as { results?: { category_scores?: Record<string, number> }[] };
    const scores: Record<string, number> = {};
    for (const r of json.results ?? [])
      for (const [category, score] of Object.entries(r.category_scores ?? {}))
        scores[category] = Math.max(scores[category] ?? 0, score);
    return { ok: true, value: scores };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
