/**
 * ClientTrafficPolicy (`sluice.dev/v1alpha1`): how a Gateway's listeners treat their clients. Field
 * names follow Envoy Gateway's ClientTrafficPolicy. Implemented so far: client IP detection, the PROXY
 * protocol, connection limits and lifetimes, the body buffer limit, the HTTP request-received and idle
 * timeouts, TCP keepalive, HTTP/2 settings, request IDs and X-Forwarded-Client-Cert.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { isCidr } from '../../../proxy/src/config/cidr.ts';
import { ClientCertDetailSchema, ForwardedClientCertModeSchema } from '../../../proxy/src/config/schema.ts';
import { ObjectMetaSchema } from './meta.ts';
import { Cidr, Duration, HeaderName, targetFields, targetRequiredRule } from './policy-targets.ts';
import { SLUICE_API_VERSION } from './sluice-api.ts';

/** A byte size: a number of bytes or a quantity (`1Mi`, `512Ki`). */
const Quantity = T.Union([
  T.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  T.String({ pattern: '^[1-9]+[0-9]*([EPTGMK]i|[EPTGMk])?$' }),
]);

/** An HTTP/2 flow-control window: 64 KiB to 2 GiB, in bytes or as a quantity (`1Mi`). */
const WindowSize = T.Union([
  T.Integer({ minimum: 65_535, maximum: 2_147_483_647 }),
  T.String({ pattern: '^[1-9]+[0-9]*([EPTGMK]i|[EPTGMk])?$' }),
]);

export const ClientTrafficPolicySchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('ClientTrafficPolicy'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      ...targetFields(T.Literal('Gateway')),
      headers: T.Optional(
        T.Object(
          {
            requestID: T.Optional(
              T.Union([
                T.Literal('PreserveOrGenerate'),
                T.Literal('Preserve'),
                T.Literal('Generate'),
                T.Literal('Disable'),
              ]),
            ),
            xForwardedClientCert: T.Optional(
              T.Object(
                {
                  mode: T.Optional(ForwardedClientCertModeSchema),
                  certDetailsToAdd: T.Optional(T.Array(ClientCertDetailSchema, { maxItems: 5 })),
                },
                {
                  additionalProperties: false,
                  'x-kubernetes-validations': [
                    {
                      rule: "!has(self.certDetailsToAdd) || (has(self.mode) && (self.mode == 'AppendForward' || self.mode == 'SanitizeSet'))",
                      message: 'certDetailsToAdd applies only to the AppendForward and SanitizeSet modes',
                    },
                  ],
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      tcpKeepalive: T.Optional(
        T.Object(
          {
            /** Accepted for Envoy Gateway compatibility: Node sets the idle time only (the kernel's count applies). */
            probes: T.Optional(T.Integer({ minimum: 1, maximum: 4_294_967_295 })),
            idleTime: T.Optional(Duration),
            /** Accepted for Envoy Gateway compatibility: the kernel's interval applies. */
            interval: T.Optional(Duration),
          },
          { additionalProperties: false },
        ),
      ),
      http2: T.Optional(
        T.Object(
          {
            initialStreamWindowSize: T.Optional(WindowSize),
            initialConnectionWindowSize: T.Optional(WindowSize),
            maxConcurrentStreams: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
          },
          { additionalProperties: false },
        ),
      ),
      proxyProtocol: T.Optional(
        T.Object({ optional: T.Optional(T.Boolean()) }, { additionalProperties: false }),
      ),
      connection: T.Optional(
        T.Object(
          {
            connectionLimit: T.Optional(
              T.Object(
                { value: T.Integer({ minimum: 1, maximum: 1_000_000 }), closeDelay: T.Optional(Duration) },
                { additionalProperties: false },
              ),
            ),
            /** Request bodies the gateway holds in memory (for retries and mirrors) are capped here. */
            bufferLimit: T.Optional(Quantity),
            /** Sluice's: requests (HTTP/2 streams) one client connection may carry before it is closed. */
            maxRequestsPerConnection: T.Optional(T.Integer({ minimum: 1, maximum: 4_294_967_295 })),
            /** Sluice's: a client connection older than this is closed gracefully. */
            maxConnectionDuration: T.Optional(Duration),
          },
          { additionalProperties: false },
        ),
      ),
      timeout: T.Optional(
        T.Object(
          {
            /** TCP and TLS listeners: a session with no byte either way for this long is closed. */
            tcp: T.Optional(T.Object({ idleTimeout: T.Optional(Duration) }, { additionalProperties: false })),
            http: T.Optional(
              T.Object(
                { requestReceivedTimeout: T.Optional(Duration), idleTimeout: T.Optional(Duration) },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      clientIPDetection: T.Optional(
        T.Object(
          {
            xForwardedFor: T.Optional(
              T.Object(
                {
                  numTrustedHops: T.Optional(T.Integer({ minimum: 1, maximum: 32 })),
                  trustedCIDRs: T.Optional(
                    T.Array(Cidr, {
                      minItems: 1,
                      maxItems: 64,
                      'x-kubernetes-validations': [
                        {
                          rule: 'self.all(c, isCIDR(c))',
                          message: 'trustedCIDRs must be IPv4 or IPv6 CIDRs',
                        },
                      ],
                    }),
                  ),
                },
                {
                  additionalProperties: false,
                  'x-kubernetes-validations': [
                    {
                      rule: 'has(self.numTrustedHops) != has(self.trustedCIDRs)',
                      message: 'xForwardedFor needs exactly one of numTrustedHops and trustedCIDRs',
                    },
                  ],
                },
              ),
            ),
            customHeader: T.Optional(
              T.Object(
                { name: HeaderName, failClosed: T.Optional(T.Boolean()) },
                { additionalProperties: false },
              ),
            ),
          },
          {
            additionalProperties: false,
            'x-kubernetes-validations': [
              {
                rule: 'has(self.xForwardedFor) != has(self.customHeader)',
                message: 'clientIPDetection needs exactly one of xForwardedFor and customHeader',
              },
            ],
          },
        ),
      ),
    },
    {
      additionalProperties: false,
      'x-kubernetes-validations': [targetRequiredRule('ClientTrafficPolicy')],
    },
  ),
});

export type ClientTrafficPolicy = Static<typeof ClientTrafficPolicySchema>;

/** The CRD's CEL rules, for the file provider. */
export function clientTrafficPolicyProblems(p: ClientTrafficPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (!p.spec.targetRefs?.length && !p.spec.targetSelectors?.length)
    problems.push({ field: '/spec', message: 'a ClientTrafficPolicy needs targetRefs or targetSelectors' });
  const d = p.spec.clientIPDetection;
  if (d && (d.xForwardedFor === undefined) === (d.customHeader === undefined))
    problems.push({
      field: '/spec/clientIPDetection',
      message: 'clientIPDetection needs exactly one of xForwardedFor and customHeader',
    });
  const xff = d?.xForwardedFor;
  if (xff && (xff.numTrustedHops === undefined) === (xff.trustedCIDRs === undefined))
    problems.push({
      field: '/spec/clientIPDetection/xForwardedFor',
      message: 'xForwardedFor needs exactly one of numTrustedHops and trustedCIDRs',
    });
  const xfcc = p.spec.headers?.xForwardedClientCert;
  if (xfcc?.certDetailsToAdd && xfcc.mode !== 'AppendForward' && xfcc.mode !== 'SanitizeSet')
    problems.push({
      field: '/spec/headers/xForwardedClientCert/certDetailsToAdd',
      message: 'certDetailsToAdd applies only to the AppendForward and SanitizeSet modes',
    });
  for (const [i, cidr] of (xff?.trustedCIDRs ?? []).entries())
    if (!isCidr(cidr))
      problems.push({
        field: `/spec/clientIPDetection/xForwardedFor/trustedCIDRs/${i}`,
        message: `${cidr} is not an IPv4 or IPv6 CIDR`,
      });
  return problems;
}
