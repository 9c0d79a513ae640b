/**
 * Bounds on what one proxy process accepts from clients and how long it waits for them: set once per
 * process (CLI flags / environment), the same for every listener.
 */
export interface ServingLimits {
  /** Largest request head accepted; larger ones get 431. */
  maxHeaderBytes: number;
  /** Largest AI (OpenAI-API) JSON body read; larger ones get 413 and the connection is closed. */
  maxBodyBytes: number;
  /**
   * AI request bodies are read whole before routing: the bytes all in-flight requests hold at once
   * are capped here, so many concurrent large bodies get a 503 instead of exhausting memory. The
   * cap counts raw bytes; while a body is served it costs about seven times its size (the text, the
   * parsed object, the request sent upstream), so 64 MiB keeps that near 450 MiB (bench:big-bodies).
   */
  maxBufferedBodyBytes: number;
  /** An HTTP/2 connection (h2c or h2) with no frames for this long is closed gracefully (GOAWAY). */
  http2IdleTimeoutMs: number;
  /** On shutdown, in-flight requests get this long to finish; then their connections are cut. */
  drainTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServingLimits = {
  maxHeaderBytes: 16_384,
  maxBodyBytes: 20_971_520,
  maxBufferedBodyBytes: 67_108_864,
  http2IdleTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
};
