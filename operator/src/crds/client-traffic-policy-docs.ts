import type { FieldDoc } from './field-doc.ts';

/** Field docs of ClientTrafficPolicy. */
export const CLIENT_TRAFFIC_POLICY_DOCS: Record<string, FieldDoc> = {
  'spec.targetRefs': {
    doc: "Gateways (optionally one listener by sectionName) in the policy's namespace; a setting applies to the listener's whole port.",
  },
  'spec.targetRefs[].group': { doc: 'gateway.networking.k8s.io.' },
  'spec.targetRefs[].kind': { doc: 'Gateway.' },
  'spec.targetRefs[].name': { doc: 'Gateway name.' },
  'spec.targetRefs[].sectionName': { doc: 'A listener name: outranks a policy on the whole Gateway.' },
  'spec.targetSelectors': { doc: "Gateways chosen by labels, in the policy's namespace." },
  'spec.targetSelectors[].group': { doc: 'gateway.networking.k8s.io.', default: 'gateway.networking.k8s.io' },
  'spec.targetSelectors[].kind': { doc: 'Gateway.' },
  'spec.targetSelectors[].matchLabels': { doc: 'Labels the Gateway must carry (all of them).' },
  'spec.headers': { doc: 'Request headers the gateway manages.' },
  'spec.headers.requestID': {
    doc: 'X-Request-ID: PreserveOrGenerate keeps a client id that looks like one (≤ 128 of [A-Za-z0-9_.:-]) and makes one otherwise; Preserve only keeps; Generate always makes a new one; Disable leaves the header as the client sent it. The id goes upstream and back on the answer, and names the request in access logs and traces. Without a policy: PreserveOrGenerate while tracing or access logs are on, untouched otherwise.',
  },
  'spec.headers.xForwardedClientCert': {
    doc: 'What the backend learns of a client certificate (X-Forwarded-Client-Cert, in Envoy\'s format: Hash=…;Subject="…";URI=…;DNS=…;Cert="…";Chain="…", entries of several proxies separated by commas). "The connection is mTLS" means the client presented a certificate the listener verified (Gateway spec.tls.frontend). Without a policy: SanitizeSet with Subject on listeners that verify client certificates, Sanitize elsewhere.',
  },
  'spec.headers.xForwardedClientCert.mode': {
    doc: "Sanitize: never send the header (a client-sent one is dropped). ForwardOnly: pass a client-sent header on over mTLS connections only. AppendForward: over mTLS, add this client's entry after the client-sent one. SanitizeSet: over mTLS, replace it with this client's entry. AlwaysForwardOnly: pass a client-sent header on, on any connection (only behind a proxy that sets it).",
    default: 'Sanitize',
  },
  'spec.headers.xForwardedClientCert.certDetailsToAdd': {
    doc: "With AppendForward or SanitizeSet, what the entry holds besides Hash (and By, the gateway's own URI SAN when its certificate has one): Subject, URI and DNS (the client's SANs), Cert (its URL-encoded PEM), Chain (the PEM of the chain it presented).",
  },
  'spec.tcpKeepalive': {
    doc: 'TCP keepalive on client connections (SO_KEEPALIVE): a peer that vanished without a FIN is found and its connection closed.',
  },
  'spec.tcpKeepalive.idleTime': { doc: 'Idle time before the first probe.', default: '2h' },
  'spec.tcpKeepalive.probes': {
    doc: "Accepted for Envoy Gateway compatibility; Node cannot set it per socket, so the kernel's count (9) applies.",
  },
  'spec.tcpKeepalive.interval': {
    doc: "Accepted for Envoy Gateway compatibility; the kernel's interval (75 s) applies.",
  },
  'spec.http2': { doc: "HTTP/2 settings of HTTPS listeners (h2c on cleartext ports keeps Node's defaults)." },
  'spec.http2.maxConcurrentStreams': {
    doc: 'Streams a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); bounds what one connection can ask of the gateway (rapid-reset style floods).',
  },
  'spec.http2.initialStreamWindowSize': {
    doc: 'Flow-control window per stream (SETTINGS_INITIAL_WINDOW_SIZE), 64Ki to 2Gi.',
    default: 65_535,
  },
  'spec.http2.initialConnectionWindowSize': {
    doc: 'Flow-control window of the whole connection, 64Ki to 2Gi.',
  },
  'spec.proxyProtocol': {
    doc: 'Connections start with a PROXY protocol header (HAProxy v1 text or v2 binary), as AWS NLB, GCP and HAProxy send it: the client it names is the client for address rules, rate limits, X-Forwarded-For and logs. A connection without a valid header is closed. LOCAL and UNKNOWN headers (the balancer checking the port) keep the peer. HTTP and HTTPS listeners (the header comes before TLS).',
  },
  'spec.proxyProtocol.optional': {
    doc: 'Serve connections that send no header as they are (while moving a load balancer over).',
    default: false,
  },
  'spec.connection': { doc: 'Limits on client connections, per proxy replica and port.' },
  'spec.connection.maxRequestsPerConnection': {
    doc: "Sluice's (not in Envoy Gateway's API): requests one client connection may carry; the last is answered with Connection: close (HTTP/2 on HTTPS ports: the session is closed gracefully after that many streams). Spreads long-lived clients over replicas after a scale-up.",
  },
  'spec.connection.maxConnectionDuration': {
    doc: "Sluice's: a client connection older than this is closed gracefully: idle HTTP/1.1 at once, busy ones with Connection: close on the answer in flight, HTTP/2 (HTTPS ports) by GOAWAY. Not for h2c on cleartext ports.",
  },
  'spec.connection.connectionLimit': {
    doc: 'Connections beyond this many at once are closed as they arrive; those already open keep being served.',
  },
  'spec.connection.connectionLimit.value': { doc: 'The number of concurrent connections.' },
  'spec.connection.connectionLimit.closeDelay': {
    doc: 'Hold a refused connection this long before closing it (unread), so clients that reconnect at once do not spin; beyond 10,000 held, refused connections are closed at once. Without it: closed as they arrive.',
  },
  'spec.connection.bufferLimit': {
    doc: 'The most request body the gateway holds in memory for one request: bodies it must replay (retries) or copy (RequestMirror) are held up to this; a larger body is sent once, as it arrives, without retries or mirror copies. A number of bytes or a quantity (512Ki, 4Mi).',
    default: '1Mi',
  },
  'spec.timeout': { doc: 'How long clients may take.' },
  'spec.timeout.tcp': { doc: 'TCP and TLS (passthrough) listeners.' },
  'spec.timeout.tcp.idleTimeout': {
    doc: 'A TCP or TLS session with no byte either way for this long is closed (both sides).',
    default: '300s',
  },
  'spec.timeout.http': { doc: 'HTTP timeouts: HTTP/1.1, h2c and HTTP/2 over TLS.' },
  'spec.timeout.http.requestReceivedTimeout': {
    doc: 'The whole request, head and body, must arrive within this, else 408 (HTTP/1.1: and the connection closes; HTTP/2: that stream only, gRPC calls get DEADLINE_EXCEEDED) — the slowloris defence. Without it: 300 s for HTTP/1.1; none for HTTP/2 streams, where long client streams (gRPC) are legitimate.',
  },
  'spec.timeout.http.idleTimeout': {
    doc: 'A connection with no request in flight for this long is closed (HTTP/2: gracefully, by GOAWAY). Without it: 5 s for HTTP/1.1 keep-alive, 60 s for HTTP/2 sessions.',
  },
  'spec.clientIPDetection': {
    doc: 'Who the client is when proxies or load balancers stand in front: what SecurityPolicy address rules, external authorizers and the access log see. Without it: the socket peer, and a client-sent X-Forwarded-For is never believed.',
  },
  'spec.clientIPDetection.xForwardedFor': {
    doc: 'Read the client from X-Forwarded-For, trusting only what trusted proxies appended.',
  },
  'spec.clientIPDetection.xForwardedFor.numTrustedHops': {
    doc: 'How many proxies in front are trusted: the client is that many entries from the right (fewer entries: the peer).',
  },
  'spec.clientIPDetection.xForwardedFor.trustedCIDRs': {
    doc: 'Addresses of the trusted proxies: from a trusted peer, the rightmost entry that is not one of them is the client; an untrusted peer is the client itself.',
  },
  'spec.clientIPDetection.customHeader': { doc: 'A header a trusted proxy sets to the client address.' },
  'spec.clientIPDetection.customHeader.name': { doc: 'Header name, e.g. X-Real-IP or CF-Connecting-IP.' },
  'spec.clientIPDetection.customHeader.failClosed': {
    doc: 'Refuse (403) a request whose header is missing or not an address, instead of using the peer.',
    default: false,
  },
};
