import type { ErrorCode } from '../errors/catalog.ts';
import type { Caller } from '../identity/identify.ts';

/**
 * What one authentication mechanism concluded. A refusal carries the catalog code, a reason a
 * client may see (never a credential), and the `WWW-Authenticate` challenge that goes with a 401.
 */
export type AuthResult =
  | { ok: true; caller: Caller | undefined }
  | { ok: false; code: ErrorCode; reason?: string; challenge: string };

export const REALM = 'sluice';
