import type { ErrorCode } from '../../errors/catalog.ts';
import type { ErrorDetail } from '../../errors/render.ts';

/**
 * What a stage of the AI request pipeline returns: the next stage's input, or the refusal the client
 * gets (rendered once, by the pipeline, from the error catalog). New stages (authentication,
 * authorization, request rate limits) slot in as functions of this shape.
 */
export type StageResult<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export interface Refusal {
  code: ErrorCode;
  detail?: ErrorDetail;
}

export const pass = <T>(value: T): StageResult<T> => ({ ok: true, value });
export const refuse = (code: ErrorCode, detail?: ErrorDetail): StageResult<never> => ({
  ok: false,
  refusal: detail ? { code, detail } : { code },
});
