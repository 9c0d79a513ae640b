import type { IncomingMessage } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Usage } from './openai-format.ts';
import { countWords } from './tokens.ts';

type Block = {
  text?: string;
  toolUse?: unknown;
  toolResult?: { content?: { text?: string }[] };
  image?: unknown;
};

export interface ConverseRequest {
  messages?: { role?: string; content?: Block[] }[];
  system?: { text?: string }[];
  toolConfig?: { tools?: { toolSpec?: { name?: string } }[] };
  inferenceConfig?: { maxTokens?: number };
}

/** AWS credentials the fake checks SigV4 signatures against, and the region they sign for. */
export interface AwsAccount {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

/** Bedrock's Converse paths: `/model/{modelId}/converse` and `/model/{modelId}/converse-stream`. */
export const BEDROCK_PATH = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

/** Prompt tokens of a Converse request: the words of every text block (tool results too), system included. */
export function bedrockPromptTokens(req: ConverseRequest): number {
  const texts = [
    ...(req.system ?? []).map((s) => s.text ?? ''),
    ...(req.messages ?? []).flatMap((m) =>
      (m.content ?? []).flatMap((b) => [
        b.text ?? '',
        ...(b.toolResult?.content ?? []).map((c) => c.text ?? ''),
      ]),
    ),
  ];
  return texts.reduce((n, t) => n + countWords(t), 0);
}

/** Converse's usage: `inputTokens` leaves cache reads out, as Bedrock reports them. */
export function bedrockUsage(u: Usage) {
  return {
    inputTokens: u.prompt - u.cached - (u.cacheWrite ?? 0),
    outputTokens: u.completion,
    totalTokens: u.prompt + u.completion,
    ...(u.cached ? { cacheReadInputTokens: u.cached } : {}),
    ...(u.cacheWrite ? { cacheWriteInputTokens: u.cacheWrite } : {}),
  };
}

/** The first tool offered, when the request offers any: the fake calls it. */
export function bedrockTool(req: ConverseRequest): string | undefined {
  return req.toolConfig?.tools?.[0]?.toolSpec?.name;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One AWS event-stream frame of a ConverseStream answer. */
export function eventFrame(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/**
 * Why AWS would refuse this request's SigV4 signature, or undefined when it holds: the signature is
 * computed again over what arrived (method, path, the signed headers, the body) with the account's
 * secret, as AWS does, and the credential scope must name the account's key, region and bedrock.
 */
export async function sigV4Refusal(
  account: AwsAccount,
  req: IncomingMessage,
  raw: Buffer,
): Promise<string | undefined> {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!auth) return 'Authorization header requires a SigV4 signature';
  const [keyId, , region, service, terminator] = auth[1]!.split('/');
  if (keyId !== account.accessKeyId) return 'The security token included in the request is invalid.';
  if (region !== account.region || service !== 'bedrock' || terminator !== 'aws4_request')
    return `Credential should be scoped to a valid region, service bedrock (got ${auth[1]})`;
  if (account.sessionToken && req.headers['x-amz-security-token'] !== account.sessionToken)
    return 'The security token included in the request is invalid.';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when) return 'missing x-amz-date';
  const signingDate = new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`);
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return 'Signature expired';
  const signedHeaders = auth[2]!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url ?? '/', 'http://fake');
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: account.accessKeyId,
      secretAccessKey: account.secretAccessKey,
      ...(account.sessionToken ? { sessionToken: account.sessionToken } : {}),
    },
    region: account.region,
    service: 'bedrock',
    sha256: Hash.bind(null, 'sha256'),
  });
  const expected = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: raw,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const signature = /Signature=([0-9a-f]+)/.exec(String(expected.headers.authorization))?.[1];
  return signature === auth[3]
    ? undefined
    : 'The request signature we calculated does not match the signature you provided.';
}
