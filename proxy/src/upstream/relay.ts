import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { HeaderBag, HeaderEdit } from '../filters/header-modifier.ts';
import { type Replacement, writeReplacement } from '../filters/response-override.ts';
import { timerMs } from '../timers/timer-ms.ts';
import { type Coding, type Compressor, compressible, compressor } from './compression.ts';
import type { AttemptOutcome, EndpointHealth } from './endpoint-health.ts';
import { forwardableHeaders } from './hop-by-hop.ts';

/** Why a relay failed before any byte reached the client (so the caller can still answer). */
export class UpstreamFailure extends Error {
  readonly timedOut: boolean;
  constructor(cause: Error, timedOut: boolean) {
    super(cause.message, { cause });
    this.name = 'UpstreamFailure';
    this.timedOut = timedOut;
  }
}

/** The upstream answered with a status the caller wants to retry: nothing was relayed. */
export class RetryableStatus extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`upstream answered ${status}`);
    this.name = 'RetryableStatus';
    this.status = status;
  }
}

export interface RelayOptions {
  dispatcher: Dispatcher;
  request: Dispatcher.DispatchOptions;
  response: ServerResponse;
  editHeaders: HeaderEdit | undefined;
  /** Whole-exchange deadline; past it the upstream request is aborted. */
  timeoutMs: number | undefined;
  /** Called once the upstream status is known, just before headers go to the client. */
  onStatus: (status: number) => void;
  /** Statuses not to relay: the exchange is dropped and the promise rejects with RetryableStatus. */
  retryStatus?: ((status: number) => boolean) | undefined;
  /** The endpoint's record: the exchange counts as in flight there while it runs (LeastRequest). */
  health?: EndpointHealth | undefined;
  /** How the attempt ended, for passive health checking: its status, or no answer (not a client abort). */
  onOutcome?: ((outcome: AttemptOutcome) => void) | undefined;
  /** The route's response overrides: a matching status is answered with the route's own body. */
  override?: ((status: number) => Replacement | undefined) | undefined;
  /** Compress the answer with this coding (the client accepts it) when it is worth it. */
  compression?: { coding: Coding; minLength: number } | undefined;
}

/**
 * Streams one upstream exchange straight into the client response through undici's dispatch API:
 * no intermediate stream objects, backpressure by pausing the upstream socket, headers and first body
 * chunk leaving in one write. Rejects with UpstreamFailure only while the client has seen nothing;
 * after that, a failure cuts the client connection (an HTTP proxy cannot signal it otherwise).
 */
export function relay(options: RelayOptions): Promise<void> {
  const { response } = options;
  return new Promise<void>((resolve, reject) => {
    let started = false;
    let timedOut = false;
    let held: RetryableStatus | undefined;
    let timer: NodeJS.Timeout | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    let clientGone = false;
    let zipped: Compressor | undefined;
    let replaced = false;
    let flushEach = false;
    const { health, onOutcome } = options;
    if (health) health.inFlight++;
    const finish = () => {
      clearTimeout(timer);
      if (health) health.inFlight--;
    };
    const onClientClose = () => {
      if (response.writableFinished) return;
      clientGone = true;
      controller?.abort(new Error('client closed the connection'));
    };
    response.once('close', onClientClose);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        // The client may have gone before the exchange started ('close' already fired): never start an
        // upstream request nobody will read, or it holds a pooled connection for as long as it lasts.
        if (responseClosed(response)) {
          clientGone = true;
          c.abort(new Error('client closed the connection'));
        }
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            timedOut = true;
            c.abort(new Error(`upstream did not answer within ${options.timeoutMs} ms`));
          }, timerMs(options.timeoutMs));
        }
      },
      onResponseStart(c, statusCode, headers) {
        if (statusCode < 200) return; // 1xx informational answers are not relayed
        onOutcome?.(statusCode);
        if (options.retryStatus?.(statusCode)) {
          held = new RetryableStatus(statusCode);
          return c.abort(held);
        }
        const replacement = options.override?.(statusCode);
        if (replacement) {
          // The backend's answer is dropped unread; the client gets the route's own.
          replaced = started = true;
          writeReplacement(response, replacement, options.editHeaders);
          options.onStatus(replacement.status);
          return c.abort(new Error('answer replaced by a response override'));
        }
        const out: HeaderBag = forwardableHeaders(headers);
        let z: Compressor | undefined;
        try {
          options.editHeaders?.(out);
          const coding = options.compression;
          if (coding && worthCompressing(statusCode, out, options.request.method, coding.minLength)) {
            z = compressor(coding.coding);
            // Events must reach the client as they come, not when a compression block fills up.
            flushEach = String(out['content-type']).startsWith('text/event-stream');
            delete out['content-length'];
            out['content-encoding'] = coding.coding;
            out.vary = out.vary ? `${out.vary}, accept-encoding` : 'accept-encoding';
          }
          response.writeHead(statusCode, out as Record<string, string | string[]>);
        } catch (err) {
          // An answer Node refuses to write (a header value it rejects): nothing was sent, so the
          // client gets a gateway error instead of a hang-up.
          z?.destroy();
          return c.abort(err as Error);
        }
        started = true;
        options.onStatus(statusCode);
        if (z) {
          z.on('error', (err) => response.destroy(err));
          z.pipe(response);
          zipped = z;
        }
      },
      onResponseData(c, chunk) {
        const sink = zipped ?? response;
        if (!sink.write(chunk)) {
          c.pause();
          sink.once('drain', () => c.resume());
        }
        if (flushEach) zipped!.flush();
      },
      onResponseEnd() {
        finish();
        response.off('close', onClientClose);
        if (zipped) zipped.end();
        else response.end();
        resolve();
      },
      onResponseError(_c, err) {
        finish();
        response.off('close', onClientClose);
        if (held) return reject(held);
        if (replaced) return resolve();
        if (!started && !clientGone) onOutcome?.('no-answer');
        if (!started) return reject(new UpstreamFailure(err, timedOut));
        zipped?.destroy();
        response.destroy(err);
        resolve();
      },
    };
    options.dispatcher.dispatch(options.request, handler);
  });
}

/**
 * An answer is compressed when it has a body (not HEAD, 204 or 304), is not encoded already, is of a
 * text-like type and does not announce fewer bytes than the floor.
 */
function worthCompressing(status: number, headers: HeaderBag, method: string, minLength: number): boolean {
  if (method === 'HEAD' || status === 204 || status === 304) return false;
  if (headers['content-encoding'] !== undefined || !compressible(headers['content-type'])) return false;
  const length = headers['content-length'];
  return length === undefined || Number(length) >= minLength;
}

function responseClosed(res: ServerResponse): boolean {
  const r = res as unknown as { destroyed?: boolean; stream?: { closed?: boolean } };
  return r.destroyed === true || r.stream?.closed === true;
}
