import { fromTokenFile } from '@aws-sdk/credential-provider-web-identity';
import { Hash } from '@smithy/hash-node';
import { memoize } from '@smithy/property-provider';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { bedrockRegionOfHost } from '../../../config/ai-backend.ts';
import type { ProviderContext, UpstreamRequest } from '../adapter.ts';

/**
 * What a Bedrock target's credentialsRef holds (without one, the pod's own identity: see
 * podIdentity): an AWS shared-credentials file
 * (`aws_access_key_id`, `aws_secret_access_key`, optionally `aws_session_token` and `region`; the
 * `[default]` profile, or the only one), signed with SigV4; or a Bedrock API key, sent as a bearer token.
 */
type BedrockCredential =
  | { kind: 'sigv4'; accessKeyId: string; secretAccessKey: string; sessionToken?: string; region?: string }
  | { kind: 'apiKey'; token: string };

/** Signers by credential text and region: parsing and key derivation happen once, not per request. */
const signers = new Map<string, { signer: SignatureV4; sent: string } | { bearer: string }>();
const MAX_SIGNERS = 256;

export function parseBedrockCredential(text: string): BedrockCredential {
  const profiles = new Map<string, Record<string, string>>();
  let current = 'default';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(?:profile\s+)?([^\]]+)\]$/.exec(line);
    if (section) {
      current = section[1]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const values = profiles.get(current) ?? {};
    values[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
    profiles.set(current, values);
  }
  const profile = profiles.get('default') ?? (profiles.size === 1 ? [...profiles.values()][0] : undefined);
  if (profile?.aws_access_key_id && profile.aws_secret_access_key)
    return {
      kind: 'sigv4',
      accessKeyId: profile.aws_access_key_id,
      secretAccessKey: profile.aws_secret_access_key,
      ...(profile.aws_session_token ? { sessionToken: profile.aws_session_token } : {}),
      ...(profile.region ? { region: profile.region } : {}),
    };
  const token = text.trim();
  if (token !== '' && !/\s/.test(token) && !token.includes('=')) return { kind: 'apiKey', token };
  throw new Error(
    'the credential is neither an AWS credentials file (aws_access_key_id, aws_secret_access_key) nor a Bedrock API key',
  );
}

/**
 * Authorises one Bedrock request: SigV4 over method, path, headers and body for a credentials file,
 * a bearer token for an API key. Returns what went out that is secret (the session token or API key).
 */
export async function authorizeBedrock(
  upstream: UpstreamRequest,
  ctx: ProviderContext,
): Promise<string | undefined> {
  const url = new URL(upstream.path, ctx.target.baseUrl);
  const region = ctx.target.bedrock?.region ?? bedrockRegionOfHost(url.hostname);
  const auth = ctx.apiKey ? authorizer(ctx.apiKey, region) : await podIdentity(region);
  if ('bearer' in auth) {
    upstream.headers.authorization = `Bearer ${auth.bearer}`;
    return auth.bearer;
  }
  const signed = await auth.signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...upstream.headers, host: url.host },
    body: upstream.body,
  });
  // The HTTP client sends the same Host itself.
  const { host: _host, ...headers } = signed.headers;
  Object.assign(upstream.headers, headers);
  return auth.sent;
}

/** The pod's own AWS credentials per region, refreshed five minutes before they expire. */
const podCredentials = new Map<string, () => Promise<AwsCredentialIdentity>>();
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * A target without credentialsRef signs with the pod's own AWS identity: EKS IAM roles for service
 * accounts (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, which the pod identity webhook sets), the
 * token exchanged with STS by AWS's own provider. Concurrent requests share one exchange.
 */
async function podIdentity(region: string | undefined): Promise<{ signer: SignatureV4; sent: string }> {
  if (!region) throw new Error('no AWS region: set bedrock.region on the target');
  let provider = podCredentials.get(region);
  if (!provider) {
    provider = memoize(
      fromTokenFile({ clientConfig: { region } }),
      (c) => c.expiration !== undefined && c.expiration.getTime() - Date.now() < REFRESH_BEFORE_MS,
      (c) => c.expiration !== undefined,
    );
    podCredentials.set(region, provider);
  }
  const c = await provider();
  const key = `${region}\npod\n${c.accessKeyId}`;
  let auth = signers.get(key);
  if (!auth || 'bearer' in auth) {
    auth = {
      signer: new SignatureV4({
        credentials: c,
        region,
        service: 'bedrock',
        sha256: Hash.bind(null, 'sha256'),
      }),
      sent: c.sessionToken ?? c.accessKeyId,
    };
    remember(key, auth);
  }
  return auth;
}

function remember(key: string, auth: { signer: SignatureV4; sent: string } | { bearer: string }): void {
  if (signers.size >= MAX_SIGNERS) signers.delete(signers.keys().next().value as string);
  signers.set(key, auth);
}

function authorizer(
  credential: string,
  region: string | undefined,
): { signer: SignatureV4; sent: string } | { bearer: string } {
  const key = `${region}\n${credential}`;
  let auth = signers.get(key);
  if (!auth) {
    const parsed = parseBedrockCredential(credential);
    if (parsed.kind === 'apiKey') auth = { bearer: parsed.token };
    else {
      const signingRegion = region ?? parsed.region;
      if (!signingRegion)
        throw new Error('no AWS region: set bedrock.region on the target, or region in the credentials file');
      auth = {
        signer: new SignatureV4({
          credentials: {
            accessKeyId: parsed.accessKeyId,
            secretAccessKey: parsed.secretAccessKey,
            ...(parsed.sessionToken ? { sessionToken: parsed.sessionToken } : {}),
          },
          region: signingRegion,
          service: 'bedrock',
          sha256: Hash.bind(null, 'sha256'),
        }),
        sent: parsed.sessionToken ?? parsed.accessKeyId,
      };
    }
    remember(key, auth);
  }
  return auth;
}
