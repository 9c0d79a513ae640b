import { verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { anthropicUsage, type MessagesRequest, message } from './anthropic-format.ts';
import {
  type AwsAccount,
  BEDROCK_PATH,
  bedrockPromptTokens,
  bedrockTool,
  bedrockUsage,
  type ConverseRequest,
  eventFrame,
  sigV4Refusal,
} from './bedrock-format.ts';
import { BEHAVIOR_HEADER, type FakeBehavior, type FakeFault, mergeBehavior } from './behavior.ts';
import { type GenerateContentRequest, geminiPromptTokens, geminiTool, geminiUsage } from './gemini-format.ts';
import { type ChatRequest, chatCompletion, chunk, openaiUsage, type Usage } from './openai-format.ts';
import {
  type ResponsesRequest,
  type ResponsesStore,
  responseObject,
  responsesInput,
  streamResponse,
} from './responses-format.ts';
import { contentText, countWords, promptTokens, replyWords } from './tokens.ts';

export interface FakeLlmOptions {
  /** Shown at the start of every reply, so a test can tell which provider answered. */
  name: string;
  /** When set, requests must carry it (Bearer, api-key or x-api-key by wire format). */
  apiKey?: string;
  behavior?: FakeBehavior;
  /**
   * Acts as Google's OAuth token endpoint (`POST /token`) for this service account: a JWT bearer
   * assertion signed with its key is exchanged for an access token, which Vertex AI paths require.
   */
  serviceAccount?: { clientEmail: string; publicKeyPem: string };
  /**
   * Bedrock paths (`/model/{id}/converse`, `converse-stream`) require a SigV4 signature by this
   * account (or, with `apiKey`, that key as a Bearer: a Bedrock API key).
   */
  aws?: AwsAccount;
  /**
   * Acts as AWS STS (`POST /`, AssumeRoleWithWebIdentity) for this role and web identity token: the
   * `aws` account's keys are issued as the role's temporary credentials (a pod's own AWS identity).
   */
  sts?: { roleArn: string; webIdentityToken: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
}

export interface FakeLlm {
  server: Server;
  /** Change at run time to make the provider fail, slow down or recover. */
  behavior: FakeBehavior;
  requests: RecordedRequest[];
  /** Every usage this provider reported, in its own accounting (tests sum these). */
  reported: Usage[];
  /** Access tokens the token endpoint issued, in order. */
  tokens: string[];
  /** AssumeRoleWithWebIdentity calls the STS endpoint answered (see `sts`). */
  stsExchanges: number;
}

type Format = 'openai' | 'anthropic' | 'gemini' | 'bedrock';
/**
 * Google AI's paths (`/v1beta/models/{model}:generateContent`, `:streamGenerateContent`, and the same
 * under `/v1`, which @google/genai uses) and Vertex
 * AI's (`/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:…`).
 */
const GEMINI_PATH =
  /^(?:\/v1beta|\/v1|\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const sleep = (ms: number | undefined) => (ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * A fake LLM provider speaking the OpenAI, Azure OpenAI, Anthropic, Gemini and Bedrock Converse wire formats, with exact,
 * deterministic usage (one token per word) and scriptable failures. A test tool and the quickstart's
 * provider; never a stand-in for anything but an unreachable LLM API.
 */
export function createFakeLlm(options: FakeLlmOptions): FakeLlm {
  const fake: FakeLlm = {
    server: undefined as unknown as Server,
    behavior: { ...options.behavior },
    requests: [],
    reported: [],
    tokens: [],
    stsExchanges: 0,
  };
  let counter = 0;
  const stored: ResponsesStore = new Map();
  fake.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      // AWS STS takes a form (the Query protocol) and answers XML.
      if (url.pathname === '/' && options.sts && options.aws) {
        fake.stsExchanges++;
        return assumeRoleWithWebIdentity(
          options.sts,
          options.aws,
          res,
          Buffer.concat(chunks).toString('utf8'),
        );
      }
      // Google's token endpoint takes a form, not JSON.
      if (url.pathname === '/token' && options.serviceAccount)
        return tokenExchange(
          options.serviceAccount,
          res,
          Buffer.concat(chunks).toString('utf8'),
          fake.tokens,
        );
      let body: Record<string, unknown> | undefined;
      const type = String(req.headers['content-type'] ?? '');
      try {
        // Image edits and audio come as multipart forms: their text fields, and each file's size.
        body = type.startsWith('multipart/form-data')
          ? await formFields(Buffer.concat(chunks), type)
          : chunks.length
            ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
            : undefined;
      } catch {
        return sendJson(res, 400, {
          error: { message: 'invalid JSON or form', type: 'invalid_request_error', code: null },
        });
      }
      fake.requests.push({
        method: req.method ?? '',
        path: url.pathname + url.search,
        headers: req.headers,
        body,
      });
      const behavior = mergeBehavior(fake.behavior, req.headers[BEHAVIOR_HEADER]);
      const id = `fake-${++counter}`;
      // As providers do: an id for support tickets (OpenAI's name and Anthropic's) and the time taken.
      res.setHeader('x-request-id', `req_${id}`);
      res.setHeader('request-id', `req_${id}`);
      res.setHeader('openai-processing-ms', '7');
      void handle(
        options,
        behavior,
        req,
        res,
        url,
        { json: body ?? {}, raw: Buffer.concat(chunks) },
        id,
        (u) => fake.reported.push(u),
        fake.tokens,
        stored,
      ).catch(() => res.destroy());
    });
  });
  return fake;
}

async function handle(
  options: FakeLlmOptions,
  behavior: FakeBehavior,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  { json: body, raw }: { json: Record<string, unknown>; raw: Buffer },
  id: string,
  report: (u: Usage) => void,
  tokens: readonly string[],
  stored: ResponsesStore,
): Promise<void> {
  const path = url.pathname;
  const responsesCall = RESPONSES_PATH.exec(path);
  const azure =
    /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings|images\/generations|images\/edits|audio\/transcriptions|audio\/translations|audio\/speech)$/.exec(
      path,
    );
  const gemini = GEMINI_PATH.exec(path);
  const bedrock = BEDROCK_PATH.exec(path);
  const format: Format =
    path === '/v1/messages' ? 'anthropic' : gemini ? 'gemini' : bedrock ? 'bedrock' : 'openai';
  if (behavior.hang) return;
  await sleep(behavior.headersDelayMs);
  if (behavior.fault) return injectFault(behavior.fault, req, res);
  if (bedrock) {
    const refusal = options.apiKey
      ? req.headers.authorization === `Bearer ${options.apiKey}`
        ? undefined
        : 'invalid API key'
      : options.aws
        ? await sigV4Refusal(options.aws, req, raw)
        : undefined;
    if (refusal) return sendError(res, 'bedrock', 403, 'UnrecognizedClientException', refusal);
  } else if (
    options.apiKey &&
    !authorized(req, options.apiKey, format, azure !== null || responsesCall?.[1] === '/openai')
  )
    return sendError(res, format, 401, 'authentication_error', 'invalid API key');
  // Vertex AI: a token this fake's token endpoint issued, as a Bearer.
  if (
    gemini &&
    path.startsWith('/v1/projects/') &&
    !tokens.some((t) => req.headers.authorization === `Bearer ${t}`)
  )
    return sendError(
      res,
      'gemini',
      401,
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials.',
    );
  if (behavior.status && behavior.status >= 400) {
    if (behavior.retryAfterSeconds !== undefined)
      res.setHeader('retry-after', String(behavior.retryAfterSeconds));
    return sendError(res, format, behavior.status, 'api_error', `fake failure ${behavior.status}`);
  }
  if (gemini) {
    const stream = gemini[2] === 'streamGenerateContent';
    if (stream && url.searchParams.get('alt') !== 'sse')
      return sendError(
        res,
        'gemini',
        400,
        'INVALID_ARGUMENT',
        'this fake streams server-sent events only (alt=sse)',
      );
    return generateContent(
      options.name,
      behavior,
      res,
      body as GenerateContentRequest,
      decodeURIComponent(gemini[1]!),
      id,
      stream,
      report,
    );
  }
  if (bedrock)
    return converse(
      options.name,
      behavior,
      res,
      body as ConverseRequest,
      id,
      bedrock[2] === 'converse-stream',
      report,
    );
  if (responsesCall)
    return responsesApi(
      options.name,
      behavior,
      req,
      res,
      body as ResponsesRequest,
      responsesCall,
      id,
      report,
      stored,
    );
  const op = azure ? `/v1/${azure[2]}` : path;
  const model = azure ? azure[1]! : String(body.model ?? 'unknown');
  switch (op) {
    case '/v1/models':
      return sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', owned_by: options.name }],
      });
    case '/v1/chat/completions':
      return chat(options.name, behavior, res, body as ChatRequest, model, id, report);
    case '/v1/completions': {
      const prompt = countWords(String(body.prompt ?? ''));
      const u = usage(behavior, prompt);
      const text = replyWords(options.name, u.completion).join(' ');
      report(u);
      return sendJson(res, 200, {
        id,
        object: 'text_completion',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
        usage: openaiUsage(u),
      });
    }
    case '/v1/embeddings': {
      const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input ?? '')];
      const prompt = inputs.reduce((n, s) => n + countWords(String(s)), 0);
      report({ prompt, completion: 0, cached: 0, reasoning: 0 });
      return sendJson(res, 200, {
        object: 'list',
        model,
        data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: embed(String(s)) })),
        usage: { prompt_tokens: prompt, total_tokens: prompt },
      });
    }
    case '/v1/moderations': {
      // Deterministic scores: "attack" reads as violence, "hate" as hate; everything else is benign.
      const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input ?? '')];
      return sendJson(res, 200, {
        id,
        model,
        results: inputs.map((text) => {
          const scores = {
            violence: /attack/i.test(text) ? 0.92 : 0.01,
            hate: /hate/i.test(text) ? 0.81 : 0.02,
            'self-harm': 0.001,
          };
          return { flagged: Object.values(scores).some((v) => v > 0.5), category_scores: scores };
        }),
      });
    }
    case '/v1/images/generations': {
      // gpt-image-1's answer: base64 images and token usage (prompt words in, a fixed 64 per image out).
      const n = typeof body.n === 'number' ? body.n : 1;
      const prompt = countWords(String(body.prompt ?? ''));
      const u = { prompt, completion: 64 * n, cached: 0, reasoning: 0 };
      report(u);
      return sendJson(res, 200, {
        created: 1_700_000_000,
        data: Array.from({ length: n }, () => ({
          b64_json: Buffer.from(`${options.name} image`).toString('base64'),
        })),
        usage: { input_tokens: u.prompt, output_tokens: u.completion, total_tokens: u.prompt + u.completion },
      });
    }
    case '/v1/images/edits': {
      // gpt-image-1 edits: the image must have come as a file; usage as for generations.
      if (typeof body.image !== 'object')
        return sendError(res, 'openai', 400, 'invalid_request_error', 'image is required');
      const u = { prompt: countWords(String(body.prompt ?? '')), completion: 64, cached: 0, reasoning: 0 };
      report(u);
      return sendJson(res, 200, {
        created: 1_700_000_000,
        data: [
          {
            b64_json: Buffer.from(
              `${options.name} edited ${(body.image as { size: number }).size} bytes`,
            ).toString('base64'),
          },
        ],
        usage: { input_tokens: u.prompt, output_tokens: u.completion, total_tokens: u.prompt + u.completion },
      });
    }
    case '/v1/audio/transcriptions':
    case '/v1/audio/translations': {
      // The "transcript" says how many audio bytes arrived; usage as gpt-4o-transcribe reports it
      // (audio tokens: one per 100 bytes), in JSON, or the bare text for response_format=text.
      const audio = body.file as { size: number } | undefined;
      if (!audio) return sendError(res, 'openai', 400, 'invalid_request_error', 'file is required');
      const text = `${options.name} heard ${audio.size} bytes`;
      const u = {
        prompt: Math.ceil(audio.size / 100) + countWords(String(body.prompt ?? '')),
        completion: countWords(text),
        cached: 0,
        reasoning: 0,
      };
      report(u);
      if (body.response_format === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end(text);
      }
      return sendJson(res, 200, {
        text,
        usage: {
          type: 'tokens',
          input_tokens: u.prompt,
          output_tokens: u.completion,
          total_tokens: u.prompt + u.completion,
        },
      });
    }
    case '/v1/audio/speech': {
      // "Audio": the input's words repeated as bytes, sent in chunks like a streamed MP3. No usage.
      const audio = Buffer.from(`${options.name} says: ${String(body.input ?? '')}`.repeat(64));
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      for (let at = 0; at < audio.length; at += 1024) {
        res.write(audio.subarray(at, at + 1024));
        await sleep(behavior.tokenDelayMs);
      }
      return void res.end();
    }
    case '/v1/rerank': {
      // vLLM's answer: documents by relevance (shared words with the query), one token per word in total.
      const query = new Set(
        String(body.query ?? '')
          .toLowerCase()
          .split(/\s+/),
      );
      const docs = (Array.isArray(body.documents) ? body.documents : []).map((d) =>
        typeof d === 'string' ? d : String((d as { text?: unknown }).text ?? ''),
      );
      const scored = docs
        .map((text, index) => ({
          index,
          relevance_score:
            text
              .toLowerCase()
              .split(/\s+/)
              .filter((w) => query.has(w)).length / 10,
        }))
        .sort((a, b) => b.relevance_score - a.relevance_score)
        .slice(0, typeof body.top_n === 'number' ? body.top_n : docs.length);
      const total = countWords(String(body.query ?? '')) + docs.reduce((n, d) => n + countWords(d), 0);
      report({ prompt: total, completion: 0, cached: 0, reasoning: 0 });
      return sendJson(res, 200, { id, model, results: scored, usage: { total_tokens: total } });
    }
    case '/v1/messages':
      return messages(options.name, behavior, res, body as MessagesRequest, model, id, report);
    default:
      return sendError(res, format, 404, 'not_found_error', `no fake endpoint ${path}`);
  }
}

/** OpenAI's `/v1/responses…` and Azure's v1 `/openai/v1/responses…`: create, or act on a stored one. */
const RESPONSES_PATH = /^(\/openai)?\/v1\/responses(?:\/([^/]+)(\/input_items|\/cancel)?)?$/;

async function responsesApi(
  name: string,
  behavior: FakeBehavior,
  req: IncomingMessage,
  res: ServerResponse,
  body: ResponsesRequest,
  [, , storedId, action]: RegExpExecArray,
  id: string,
  report: (u: Usage) => void,
  stored: ResponsesStore,
): Promise<void> {
  const notFound = (what: string, param: string | null) =>
    sendJson(res, 404, {
      error: { message: `${what} not found.`, type: 'invalid_request_error', param, code: null },
    });
  if (storedId !== undefined) {
    const found = stored.get(storedId);
    if (!found) return notFound(`Response with id '${storedId}'`, null);
    if (req.method === 'DELETE') {
      stored.delete(storedId);
      return sendJson(res, 200, { id: storedId, object: 'response', deleted: true });
    }
    if (action === '/input_items')
      return sendJson(res, 200, { object: 'list', data: found.input, has_more: false });
    return sendJson(res, 200, found.response);
  }
  const previous = body.previous_response_id ? stored.get(body.previous_response_id) : undefined;
  if (body.previous_response_id && !previous)
    return notFound(`Previous response with id '${body.previous_response_id}'`, 'previous_response_id');
  const input = responsesInput(body);
  const u = usage(behavior, input.tokens + (previous?.contextTokens ?? 0));
  const words = replyWords(name, u.completion);
  const responseId = `resp_${name}_${id}`;
  const response = responseObject(responseId, body, words.join(' '), u);
  if (body.store !== false)
    stored.set(responseId, { response, input: input.items, contextTokens: u.prompt + u.completion });
  report(u);
  if (!body.stream || behavior.ignoreStream) return sendJson(res, 200, response);
  await sleep(behavior.ttftMs);
  return streamResponse(res, response, words, async () => {
    await sleep(behavior.tokenDelayMs);
  });
}

function usage(behavior: FakeBehavior, prompt: number, choices = 1): Usage {
  return {
    prompt,
    completion: (behavior.replyTokens ?? 8) * choices,
    cached: Math.min(behavior.cachedTokens ?? 0, prompt),
    reasoning: behavior.reasoningTokens ?? 0,
    cacheWrite: Math.min(behavior.cacheWriteTokens ?? 0, Math.max(0, prompt - (behavior.cachedTokens ?? 0))),
  };
}

async function chat(
  name: string,
  behavior: FakeBehavior,
  res: ServerResponse,
  req: ChatRequest,
  model: string,
  id: string,
  report: (u: Usage) => void,
) {
  // As OpenAI does: n is a whole number from 1 to 128 (a huge n would only exhaust this fake's memory).
  if (req.n !== undefined && req.n !== null && !(Number.isInteger(req.n) && req.n >= 1 && req.n <= 128))
    return sendError(res, 'openai', 400, 'invalid_request_error', 'n must be an integer from 1 to 128');
  const echoed = behavior.echo ? lastMessageWords(req) : undefined;
  const u = usage(
    echoed ? { ...behavior, replyTokens: echoed.length } : behavior,
    promptTokens(req.messages ?? []),
    req.stream ? 1 : (req.n ?? 1),
  );
  if (!req.stream || behavior.ignoreStream) {
    report(u);
    const answer = chatCompletion(name, { ...req, stream: false }, model, u, id, echoed);
    if (behavior.omitUsage) {
      // Such a provider reports nothing: the gateway must count what it served itself.
      const { usage: _omitted, ...withoutUsage } = answer;
      return sendJson(res, 200, withoutUsage);
    }
    return sendJson(res, 200, answer);
  }
  const withUsage = req.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await sleep(behavior.ttftMs);
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  send(chunk(id, model, { role: 'assistant', content: '' }, null, withUsage));
  const tool = req.tools?.[0]?.function.name;
  // With tools offered, the stream calls the first one, its arguments split over two chunks as
  // providers split them.
  const toolCall = (args: string, first: boolean) => ({
    tool_calls: [
      {
        index: 0,
        ...(first ? { id: `call_${id}`, type: 'function' } : {}),
        function: { ...(first ? { name: tool } : {}), arguments: args },
      },
    ],
  });
  const words = tool ? [] : (echoed ?? replyWords(name, u.completion));
  if (tool) {
    send(chunk(id, model, toolCall('', true), null, withUsage));
    send(chunk(id, model, toolCall('{"city":', false), null, withUsage));
    send(chunk(id, model, toolCall('"Paris"}', false), null, withUsage));
  }
  for (let i = 0; i < words.length; i++) {
    if (i > 0) await sleep(behavior.tokenDelayMs);
    // Dropped while producing the next token: what was sent has been flushed by now.
    if (behavior.dropAfterChunks !== undefined && i >= behavior.dropAfterChunks)
      return void res.socket?.destroy();
    send(chunk(id, model, { content: i === 0 ? words[i] : ` ${words[i]}` }, null, withUsage));
  }
  send(chunk(id, model, {}, tool ? 'tool_calls' : 'stop', withUsage));
  if (withUsage) {
    report(u);
    send({
      id,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [],
      usage: openaiUsage(u),
    });
  }
  res.end('data: [DONE]\n\n');
}

async function messages(
  name: string,
  behavior: FakeBehavior,
  res: ServerResponse,
  req: MessagesRequest,
  model: string,
  id: string,
  report: (u: Usage) => void,
) {
  if (typeof req.max_tokens !== 'number')
    return sendError(res, 'anthropic', 400, 'invalid_request_error', 'max_tokens: Field required');
  const u = usage(behavior, promptTokens(req.messages ?? [], req.system));
  report(u);
  if (!req.stream) return sendJson(res, 200, message(name, req, model, u, id));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await sleep(behavior.ttftMs);
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const full = anthropicUsage(u);
  send('message_start', {
    type: 'message_start',
    message: {
      ...message(name, req, model, u, id),
      content: [],
      stop_reason: null,
      usage: { ...full, output_tokens: 1 },
    },
  });
  send('content_block_start', {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  });
  const words = replyWords(name, u.completion);
  for (let i = 0; i < words.length; i++) {
    if (i > 0) await sleep(behavior.tokenDelayMs);
    // Dropped while producing the next token: what was sent has been flushed by now.
    if (behavior.dropAfterChunks !== undefined && i >= behavior.dropAfterChunks)
      return void res.socket?.destroy();
    send('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: i === 0 ? words[i] : ` ${words[i]}` },
    });
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: u.completion },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

async function generateContent(
  name: string,
  behavior: FakeBehavior,
  res: ServerResponse,
  req: GenerateContentRequest,
  model: string,
  id: string,
  stream: boolean,
  report: (u: Usage) => void,
) {
  if (!Array.isArray(req.contents) || req.contents.length === 0)
    return sendError(res, 'gemini', 400, 'INVALID_ARGUMENT', 'contents is not specified');
  const u = usage(behavior, geminiPromptTokens(req));
  report(u);
  const tool = geminiTool(req);
  const words = replyWords(name, u.completion - u.reasoning);
  const call = { functionCall: { name: tool, args: { city: 'Paris' } } };
  if (!stream)
    return sendJson(res, 200, {
      candidates: [
        {
          content: { role: 'model', parts: tool ? [call] : [{ text: words.join(' ') }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: geminiUsage(u),
      modelVersion: model,
      responseId: id,
    });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await sleep(behavior.ttftMs);
  const send = (parts: unknown[], finish?: string) =>
    res.write(
      `data: ${JSON.stringify({
        candidates: [
          { content: { role: 'model', parts }, ...(finish ? { finishReason: finish } : {}), index: 0 },
        ],
        // As Gemini does: usage on every event, cumulative, the prompt known from the start.
        usageMetadata: finish ? geminiUsage(u) : { promptTokenCount: u.prompt },
        modelVersion: model,
        responseId: id,
      })}\r\n\r\n`,
    );
  if (tool) {
    send([call], 'STOP');
    return void res.end();
  }
  for (let i = 0; i < words.length; i++) {
    if (i > 0) await sleep(behavior.tokenDelayMs);
    if (behavior.dropAfterChunks !== undefined && i >= behavior.dropAfterChunks)
      return void res.socket?.destroy();
    const text = i === 0 ? words[i]! : ` ${words[i]}`;
    send([{ text }], i === words.length - 1 ? 'STOP' : undefined);
  }
  res.end();
}

/** Bedrock Converse, or ConverseStream as AWS event-stream frames. */
async function converse(
  name: string,
  behavior: FakeBehavior,
  res: ServerResponse,
  req: ConverseRequest,
  id: string,
  stream: boolean,
  report: (u: Usage) => void,
) {
  if (!Array.isArray(req.messages) || req.messages.length === 0)
    return sendError(res, 'bedrock', 400, 'ValidationException', 'messages must not be empty');
  const u = { ...usage(behavior, bedrockPromptTokens(req)), reasoning: 0 };
  report(u);
  const tool = bedrockTool(req);
  const words = replyWords(name, u.completion);
  const toolUse = { toolUseId: `tooluse_${id}`, name: tool, input: { city: 'Paris' } };
  const stopReason = tool ? 'tool_use' : 'end_turn';
  res.setHeader('x-amzn-requestid', id);
  if (!stream)
    return sendJson(res, 200, {
      output: { message: { role: 'assistant', content: tool ? [{ toolUse }] : [{ text: words.join(' ') }] } },
      stopReason,
      usage: bedrockUsage(u),
      metrics: { latencyMs: 7 },
    });
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  await sleep(behavior.ttftMs);
  res.write(eventFrame('messageStart', { role: 'assistant' }));
  if (tool) {
    res.write(
      eventFrame('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: toolUse.toolUseId, name: tool } },
      }),
    );
    for (const piece of ['{"city":', '"Paris"}'])
      res.write(
        eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: piece } } }),
      );
  } else
    for (let i = 0; i < words.length; i++) {
      if (i > 0) await sleep(behavior.tokenDelayMs);
      if (behavior.dropAfterChunks !== undefined && i >= behavior.dropAfterChunks)
        return void res.socket?.destroy();
      const text = i === 0 ? words[i]! : ` ${words[i]}`;
      res.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }));
    }
  res.write(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
  res.write(eventFrame('messageStop', { stopReason }));
  res.end(eventFrame('metadata', { usage: bedrockUsage(u), metrics: { latencyMs: 7 } }));
}

/**
 * Google's OAuth token endpoint for one service account: the JWT bearer grant, with the assertion's
 * RS256 signature, issuer, audience, scope and lifetime checked as Google checks them.
 */
function tokenExchange(
  account: NonNullable<FakeLlmOptions['serviceAccount']>,
  res: ServerResponse,
  form: string,
  tokens: string[],
): void {
  const refusal = grantRefusal(account, new URLSearchParams(form));
  if (refusal) return void sendJson(res, 400, { error: 'invalid_grant', error_description: refusal });
  const token = `ya29.fake-${tokens.length + 1}`;
  tokens.push(token);
  sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
}

/** Why Google would refuse this grant, or undefined when it is good. */
function grantRefusal(
  account: NonNullable<FakeLlmOptions['serviceAccount']>,
  params: URLSearchParams,
): string | undefined {
  if (params.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    return 'unsupported grant_type';
  const [header, payload, signature] = (params.get('assertion') ?? '').split('.');
  if (!header || !payload || !signature) return 'not a JWT';
  const signed = Buffer.from(`${header}.${payload}`);
  if (!verify('RSA-SHA256', signed, account.publicKeyPem, Buffer.from(signature, 'base64url')))
    return 'Invalid JWT Signature.';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== account.clientEmail) return 'wrong issuer';
  if (typeof claims.aud !== 'string' || !claims.aud.endsWith('/token')) return 'wrong audience';
  if (claims.scope !== 'https://www.googleapis.com/auth/cloud-platform') return 'wrong scope';
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp - now > 3600)
    return 'Invalid JWT: Token must be a short-lived token (60 minutes)';
  return undefined;
}

/** AWS STS AssumeRoleWithWebIdentity: the account's keys for the right role and token, else AWS's refusal. */
function assumeRoleWithWebIdentity(
  sts: NonNullable<FakeLlmOptions['sts']>,
  account: AwsAccount,
  res: ServerResponse,
  form: string,
): void {
  const params = new URLSearchParams(form);
  const ok =
    params.get('Action') === 'AssumeRoleWithWebIdentity' &&
    params.get('RoleArn') === sts.roleArn &&
    params.get('WebIdentityToken') === sts.webIdentityToken;
  const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  res.writeHead(ok ? 200 : 403, { 'content-type': 'text/xml' });
  res.end(
    ok
      ? `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${account.accessKeyId}</AccessKeyId><SecretAccessKey>${account.secretAccessKey}</SecretAccessKey><SessionToken>${account.sessionToken ?? ''}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`
      : '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>sts-2</RequestId></ErrorResponse>',
  );
}

/** Answers as a broken provider would (see FakeFault). */
async function injectFault(fault: FakeFault, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const half = '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis';
  switch (fault) {
    case 'hang-mid-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(half);
      return;
    case 'reset-mid-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(half);
      await sleep(20);
      res.socket?.resetAndDestroy();
      return;
    case 'drip': {
      const text = JSON.stringify({ error: { message: 'slow', type: 'x', code: null } });
      res.writeHead(503, { 'content-type': 'application/json' });
      for (const c of text) {
        if (res.destroyed) return;
        res.write(c);
        await sleep(50);
      }
      res.end();
      return;
    }
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.from([0xff, 0x00, 0x7b, 0x22, 0xfe, 0x0a]));
      return;
    case 'wrong-content-type':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
      return;
    case 'huge-headers':
      res.writeHead(200, { 'content-type': 'application/json', 'x-huge': 'h'.repeat(65_536) });
      res.end('{}');
      return;
    case 'echo-key': {
      const sent = req.headers.authorization ?? req.headers['x-api-key'] ?? '';
      const address = `${req.socket.localAddress}:${req.socket.localPort}`;
      return sendJson(res, 401, {
        error: {
          message: `Incorrect API key provided: ${String(sent)} (served by ${address}, see https://internal.example/keys)`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          internal_trace: 'db-7.internal:5432',
        },
      });
    }
  }
}

function lastMessageWords(req: ChatRequest): string[] {
  return contentText(req.messages?.at(-1)?.content)
    .split(' ')
    .filter((w) => w !== '');
}

function authorized(req: IncomingMessage, key: string, format: Format, azure: boolean): boolean {
  if (format === 'gemini') return req.headers['x-goog-api-key'] === key;
  // Anthropic takes x-api-key; newer SDKs send a Bearer token instead, which its API also accepts.
  if (format === 'anthropic')
    return req.headers['x-api-key'] === key || req.headers.authorization === `Bearer ${key}`;
  if (azure) return req.headers['api-key'] === key;
  return req.headers.authorization === `Bearer ${key}`;
}

function embed(text: string): number[] {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return Array.from({ length: 8 }, (_, i) => ((h >>> (i * 4)) & 0xff) / 255);
}

function sendError(res: ServerResponse, format: Format, status: number, type: string, msg: string): void {
  sendJson(
    res,
    status,
    format === 'anthropic'
      ? { type: 'error', error: { type, message: msg } }
      : format === 'gemini'
        ? { error: { code: status, message: msg, status: type } }
        : format === 'bedrock'
          ? { message: msg }
          : { error: { message: msg, type, code: null } },
    format === 'bedrock' ? { 'x-amzn-errortype': type } : {},
  );
}

/** A multipart form's text fields, and each file as its name, type and size. */
async function formFields(raw: Buffer, type: string): Promise<Record<string, unknown>> {
  const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form)
    fields[name] =
      typeof value === 'string' ? value : { filename: value.name, type: value.type, size: value.size };
  return fields;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
