import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { HeaderBag, HeaderEdit } from '../filters/header-modifier.ts';
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
          }, options.timeoutMs);
        }
      },
      onResponseStart(c, statusCode, headers) {
        if (statusCode < 200) return; // 1xx informational answers are not relayed
        onOutcome?.(statusCode);
        if (options.retryStatus?.(statusCode)) {
          held = new RetryableStatus(statusCode);
          return c.abort(held);
        }
        started = true;
        const out: HeaderBag = forwardableHeaders(headers);
        options.editHeaders?.(out);
        options.onStatus(statusCode);
        response.writeHead(statusCode, out as Record<string, string | string[]>);
      },
      onResponseData(c, chunk) {
        if (!response.write(chunk)) {
          c.pause();
          response.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        finish();
        response.off('close', onClientClose);
        response.end();
        resolve();
      },
      onResponseError(_c, err) {
        finish();
        response.off('close', onClientClose);
        if (held) return reject(held);
        if (!started && !clientGone) onOutcome?.('no-answer');
        if (!started) return reject(new UpstreamFailure(err, timedOut));
        response.destroy(err);
        resolve();
      },
    };
    options.dispatcher.dispatch(options.request, handler);
  });
}

function responseClosed(res: ServerResponse): boolean {
  const r = res as unknown as { destroyed?: boolean; stream?: { closed?: boolean } };
  return r.destroyed === true || r.stream?.closed === true;
}
