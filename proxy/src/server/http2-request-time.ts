import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { isGrpcCall, writeError, writeGrpcError } from '../errors/render.ts';
import { timerMs } from '../timers/timer-ms.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * ClientTrafficPolicy `requestReceivedTimeout` for HTTP/2 streams (HTTP/1.1 has Node's own sweep): a
 * stream whose request body has not fully arrived in time is answered 408 (a gRPC call:
 * DEADLINE_EXCEEDED) and reset with NO_ERROR, which tells the client to stop sending (RFC 9113 §8.1); the
 * forwarding core sees the client go and cancels the upstream exchange. Only when the listener sets
 * a timeout: long client streams (gRPC) are legitimate, so HTTP/2 has no default. A stream that ended
 * with its headers (GET and most calls) costs nothing.
 */
export function limitHttp2RequestTime(handler: Handler, timeoutOf: () => number | undefined): Handler {
  return (req, res) => {
    if (req.httpVersionMajor === 2) {
      const stream = (req as unknown as Http2ServerRequest).stream;
      const ms = stream.endAfterHeaders ? undefined : timeoutOf();
      if (ms !== undefined) {
        const timer = setTimeout(() => late(req as unknown as Http2ServerRequest, res as never), timerMs(ms));
        stream.once('close', () => clearTimeout(timer));
        // The body has arrived once the client ended the stream, read by the upstream or not yet.
        stream.once('end', () => clearTimeout(timer));
      }
    }
    handler(req, res);
  };
}

function late(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const stream = req.stream;
  if (stream.destroyed || (stream as unknown as { _readableState: { ended: boolean } })._readableState.ended)
    return;
  const reset = () => stream.close(constants.NGHTTP2_NO_ERROR);
  // An answer already under way is cut as it stands; our own 408 goes out whole first.
  if (stream.headersSent) return void reset();
  if (isGrpcCall(req)) writeGrpcError(res, 'request_timeout');
  else writeError(res, 'request_timeout');
  if (stream.writableFinished) reset();
  else stream.once('finish', reset);
}
