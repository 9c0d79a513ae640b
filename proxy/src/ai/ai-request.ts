import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { AIOperation } from '../client-api/operations.ts';
import type { Detector } from '../guard/compiled-guard.ts';
import type { Finding } from '../guard/scan.ts';
import type { Caller } from '../identity/identify.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { ObservedRequest } from '../telemetry/request-telemetry.ts';
import type { CompiledAIBackend } from './compiled-backend.ts';
import type { FormPart } from './form-body.ts';

/** One admitted AI request as the attempt loop and the exchange record see it. */
export interface AIRequest {
  op: AIOperation;
  body: Record<string, unknown>;
  /**
   * The client's body bytes, while `body` is exactly what they parse to: undefined once a client-API
   * surface translated the request or a guard masked it. Providers that forward the body as it is
   * send these bytes.
   */
  verbatim: Buffer | undefined;
  backend: CompiledAIBackend;
  /** A multipart request's parts (`body` holds its text fields). */
  form?: FormPart[] | undefined;
  /** Only this target may serve it (it holds the stored response the request continues). */
  pinnedTarget?: string | undefined;
  response: ServerResponse;
  /** performance.now() when the request arrived. */
  started: number;
  secrets: SecretStore;
  metrics: GenAIMetrics;
  log: FastifyBaseLogger;
  caller: Caller;
  /** Guards that mask completions (non-streamed answers and streams alike). */
  responseMaskers: readonly Detector[];
  /** Tracing and access-log record of the request, when telemetry is on. */
  observed: ObservedRequest | undefined;
  onResponseMasked: (findings: readonly Finding[]) => void;
}
