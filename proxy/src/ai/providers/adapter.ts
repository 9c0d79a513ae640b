import type { ClientEvent } from '../../client-api/client-event.ts';
import type { AIOperation } from '../../client-api/operations.ts';
import type { AITarget } from '../../config/ai-backend.ts';
import type { TokenUsage } from '../../usage/usage.ts';
import type { FormPart } from '../form-body.ts';
import type { SseEvent } from '../sse.ts';

export interface UpstreamRequest {
  /** Path and query on the target's origin. */
  path: string;
  headers: Record<string, string>;
  /** A Buffer when it is the client's own bytes, forwarded without re-serialising. */
  body: string | Buffer;
}

export interface ProviderContext {
  op: AIOperation;
  target: AITarget;
  /** Path prefix of the target's baseUrl, e.g. `/v1`. */
  basePath: string;
  upstreamModel: string;
  /** The model the client named (what routed the request), and the AI backend (`namespace/name`). */
  model: string;
  backend: string;
  apiKey: string | undefined;
  stream: boolean;
  /** The client asked for `stream_options.include_usage`. */
  clientWantsUsage: boolean;
  /** A multipart request's parts (image edits, audio): the body is written from them. */
  form?: readonly FormPart[];
}

/** An OpenAI-shaped answer converted from the provider's. */
export interface ConvertedResponse {
  body: Record<string, unknown>;
  /** `body` is the provider's answer as parsed, untouched: its text can go to the client as it came. */
  unchanged?: true;
  usage: TokenUsage | undefined;
  model: string | undefined;
}

/** Turns upstream SSE events into OpenAI `data:` payloads (without the `data: ` framing). */
export interface StreamConverter {
  convert(event: SseEvent): ClientEvent[];
  usage(): TokenUsage | undefined;
  model(): string | undefined;
  /** The provider signalled a complete stream (OpenAI `[DONE]`, Anthropic `message_stop`). */
  complete(): boolean;
  /** Text the client has received so far, for counting tokens when a stream is cut short. */
  text(): string;
}

/** Splits a streamed answer into events, whatever the chunking of the network. */
export interface StreamDecoder {
  push(chunk: Uint8Array): SseEvent[];
}

/** A provider: data (paths, headers) plus small transforms between its wire format and OpenAI's. */
export interface ProviderAdapter {
  /** `gen_ai.provider.name` for metrics. */
  genAiName: string;
  supports(op: AIOperation): boolean;
  /**
   * Builds the upstream request; throws UnsupportedParameterError for what the provider cannot do.
   * `verbatim` is the client's body as it arrived, when nothing has changed `body` since it was parsed.
   */
  request(body: Record<string, unknown>, ctx: ProviderContext, verbatim: Buffer | undefined): UpstreamRequest;
  response(json: unknown, ctx: ProviderContext): ConvertedResponse;
  streamConverter(ctx: ProviderContext): StreamConverter;
  /** How its streams are framed, when not as server-sent events (Bedrock's AWS event stream). */
  streamDecoder?(): StreamDecoder;
  /** The provider's error body in OpenAI's shape. */
  error(json: unknown, status: number): Record<string, unknown>;
  /**
   * For credentials that are not sent as they are (a service account's OAuth token, an AWS
   * signature over the request): sets the request's authorisation from the target's credential
   * (`ctx.apiKey`) just before each attempt, and returns what it sent that is secret (so provider
   * errors echoing it are scrubbed). Rejects when the request cannot be authorised.
   */
  authorize?(upstream: UpstreamRequest, ctx: ProviderContext): Promise<string | undefined>;
}

export class UnsupportedParameterError extends Error {
  readonly param: string;
  constructor(param: string, provider: string) {
    super(`parameter '${param}' is not supported by ${provider} targets`);
    this.param = param;
  }
}
