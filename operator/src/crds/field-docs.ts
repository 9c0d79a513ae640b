import { BACKEND_TRAFFIC_POLICY_DOCS } from './backend-traffic-policy-docs.ts';
import { CLIENT_TRAFFIC_POLICY_DOCS } from './client-traffic-policy-docs.ts';
import type { FieldDoc } from './field-doc.ts';
import { SECURITY_POLICY_DOCS } from './security-policy-docs.ts';

/**
 * What every field of Sluice's CRDs means and its default, keyed by path (`[]` a list item, `{}` a
 * map value). One table feeds the CRD descriptions (`kubectl explain`) and docs/api/*.md; a test fails
 * when a schema field has no entry here or an entry names no field.
 */

export const FIELD_DOCS: Readonly<Record<string, Readonly<Record<string, FieldDoc>>>> = {
  SecurityPolicy: SECURITY_POLICY_DOCS,
  ClientTrafficPolicy: CLIENT_TRAFFIC_POLICY_DOCS,
  BackendTrafficPolicy: BACKEND_TRAFFIC_POLICY_DOCS,
  AIBackend: {
    'spec.models': {
      doc: 'Client-facing model names this backend serves; empty: any model passes through. Listed by GET /v1/models.',
    },
    'spec.targets': {
      doc: 'Provider endpoints, tried by priority (lowest first) with weights within a priority.',
    },
    'spec.targets[].name': {
      doc: 'Name of the target, unique in the backend; shown in x-sluice-ai-target and metrics.',
    },
    'spec.targets[].provider': {
      doc: 'Wire format: OpenAI, AzureOpenAI, Anthropic, Gemini (Google AI generateContent, API key), VertexAI (the same on Vertex AI; credentialsRef names a service-account key file, exchanged for OAuth tokens) or Bedrock (Amazon Bedrock Converse; credentialsRef names an AWS credentials file, requests are SigV4-signed, or a Bedrock API key; without credentialsRef the AWS identity of the proxy pod, IRSA) — these four translated to and from the OpenAI API — or OpenAICompatible (vLLM, Ollama, llama.cpp, TGI).',
    },
    'spec.targets[].priority': {
      doc: 'Failover order: every target of the lowest priority is tried before the next priority.',
      default: 0,
    },
    'spec.targets[].weight': {
      doc: 'Share of traffic among targets of the same priority; 0 takes no traffic unless the others fail.',
      default: 1,
    },
    'spec.targets[].endpoint': { doc: 'Where the provider is: exactly one of url or serviceRef.' },
    'spec.targets[].endpoint.url': { doc: 'Base URL of the provider API, e.g. https://api.openai.com/v1.' },
    'spec.targets[].endpoint.serviceRef': {
      doc: "A Service in the AIBackend's namespace, reached through cluster DNS (in-cluster model servers).",
    },
    'spec.targets[].endpoint.serviceRef.name': { doc: 'Service name.' },
    'spec.targets[].endpoint.serviceRef.port': { doc: 'Service port.' },
    'spec.targets[].endpoint.path': { doc: 'API path prefix on the Service, e.g. /v1 (serviceRef only).' },
    // No API-server default here: it would land on url endpoints too, where the CEL rule forbids it.
    'spec.targets[].endpoint.scheme': {
      doc: 'http or https for the Service (serviceRef only); default http.',
    },
    'spec.targets[].credentialsRef': {
      doc: "The provider API key: a key of a Secret in the AIBackend's namespace. Delivered to proxies in their own Secret, never in their config.",
    },
    'spec.targets[].credentialsRef.name': { doc: 'Secret name.' },
    'spec.targets[].credentialsRef.key': { doc: 'Key in the Secret holding the API key.' },
    'spec.targets[].model': {
      doc: 'Send every request to this provider model, whatever the client asked for.',
    },
    'spec.targets[].modelMap': { doc: 'Client model name → provider model name, for this target.' },
    'spec.targets[].azure': { doc: 'Azure OpenAI settings (provider AzureOpenAI).' },
    'spec.targets[].azure.deployment': { doc: 'Deployment name; default: the model name.' },
    'spec.targets[].azure.apiVersion': { doc: 'The api-version query parameter, e.g. 2024-10-21.' },
    'spec.targets[].bedrock': { doc: 'Amazon Bedrock settings (provider Bedrock).' },
    'spec.targets[].bedrock.region': {
      doc: 'AWS region requests are signed for; default: the region of a bedrock-runtime.<region>.amazonaws.com endpoint URL.',
    },
    'spec.targets[].anthropic': { doc: 'Anthropic settings (provider Anthropic).' },
    'spec.targets[].anthropic.version': { doc: 'The anthropic-version header.', default: '2023-06-01' },
    'spec.targets[].anthropic.defaultMaxTokens': {
      doc: 'max_tokens sent when the client sets none (Anthropic requires one).',
      default: 4096,
    },
    'spec.pricing': {
      doc: 'USD prices per million tokens, by provider model, for sluice_ai_cost_usd_total and CostUSD budgets.',
    },
    'spec.pricing[].model': { doc: 'Provider model name as the response reports it.' },
    'spec.pricing[].inputPerMillion': { doc: 'USD per million uncached input tokens.' },
    'spec.pricing[].cachedInputPerMillion': {
      doc: 'USD per million cached input tokens; default: the input price.',
    },
    'spec.pricing[].cacheWriteInputPerMillion': {
      doc: 'USD per million input tokens written to the prompt cache (Anthropic and Bedrock report them, and bill them above plain input); default: the input price.',
    },
    'spec.pricing[].outputPerMillion': { doc: 'USD per million output tokens.' },
    'spec.pricing[].reasoningPerMillion': {
      doc: 'USD per million reasoning tokens; default: the output price.',
    },
    'spec.timeouts': { doc: 'Time limits; durations like 30s, 1m30s, 500ms.' },
    'spec.timeouts.request': { doc: 'Whole request, all attempts included (504 after).', default: '300s' },
    'spec.timeouts.firstToken': {
      doc: 'Until the first byte of the answer of an attempt (its response headers; for a stream, its first event); past it the next target is tried. Unset: no limit of its own.',
    },
    'spec.timeouts.streamIdle': {
      doc: 'Longest silence inside a stream; the stream ends with an error event. Unset: no limit of its own.',
    },
    'spec.retry': { doc: 'Failover attempts.' },
    'spec.retry.attempts': {
      doc: 'Attempts per request, each on a different target (connect errors, timeouts before the first byte, 408/429/5xx).',
      default: 3,
    },
    'spec.cooldown': { doc: 'Circuit breaker per target.' },
    'spec.cooldown.consecutiveFailures': { doc: 'Failures in a row that rest a target.', default: 3 },
    'spec.cooldown.duration': { doc: 'How long a rested target gets no traffic.', default: '30s' },
  },
  PromptGuard: {
    'spec.targetRefs': {
      doc: 'Gateways or HTTPRoutes (same namespace) whose AI traffic is checked; a rule can also name the guard in an ExtensionRef filter.',
    },
    'spec.targetRefs[].group': { doc: 'gateway.networking.k8s.io.' },
    'spec.targetRefs[].kind': { doc: 'Gateway or HTTPRoute.' },
    'spec.targetRefs[].name': { doc: 'Name of the Gateway or HTTPRoute.' },
    'spec.targetRefs[].sectionName': {
      doc: 'With an HTTPRoute: the `name` of one of its rules, to guard that rule only (no such rule: TargetNotFound).',
    },
    'spec.roles': {
      doc: 'Roles whose texts are checked, any letter case: `user` (also the `user` field and predicted output), `system` (also `developer` messages and tool definitions), `assistant` (also tool-call arguments), `tool` (also `function` results).',
      default: ['user', 'system', 'assistant', 'tool'],
    },
    'spec.request': { doc: 'Checks on the prompt before it reaches a provider.' },
    'spec.request.builtins': { doc: 'Built-in detectors.' },
    'spec.request.builtins[].detector': {
      doc: 'Email, Phone, CreditCard (Luhn-checked), SSN, IPAddress or APIKey (common secret shapes).',
    },
    'spec.request.builtins[].action': {
      doc: 'Reject (answer with the rejection), Mask (replace the match and go on) or Audit (count only).',
    },
    'spec.request.regexes': {
      doc: 'Custom patterns in RE2 syntax (linear-time matching; lookaround and backreferences are refused).',
    },
    'spec.request.regexes[].name': { doc: 'Name shown in metrics and the default mask.' },
    'spec.request.regexes[].pattern': { doc: 'The regular expression.' },
    'spec.request.regexes[].action': { doc: 'Reject, Mask or Audit.' },
    'spec.request.regexes[].replacement': { doc: 'Text replacing a masked match; default: <NAME>.' },
    'spec.request.regexes[].maxLength': { doc: 'Longest match considered, in characters.', default: 256 },
    'spec.request.webhook': {
      doc: 'An external guard: POST of the checked messages, answered allow, deny or mask.',
    },
    'spec.request.webhook.url': { doc: 'The guard service URL.' },
    'spec.request.webhook.timeout': { doc: 'How long to wait for its verdict.', default: '2s' },
    'spec.request.webhook.failureMode': {
      doc: 'When it fails or times out: FailClosed refuses the request, FailOpen lets it through.',
      default: 'FailClosed',
    },
    'spec.request.moderation': { doc: 'An OpenAI-compatible /moderations check through an AIBackend.' },
    'spec.request.moderation.aiBackendRef': { doc: 'The AIBackend (same namespace) serving /moderations.' },
    'spec.request.moderation.aiBackendRef.name': { doc: 'AIBackend name.' },
    'spec.request.moderation.model': { doc: 'Moderation model.', default: 'omni-moderation-latest' },
    'spec.request.moderation.categories': {
      doc: 'Categories that refuse a prompt; empty: any flagged category.',
    },
    'spec.request.moderation.threshold': {
      doc: 'Category score from which a prompt is refused.',
      default: 0.5,
    },
    'spec.request.moderation.timeout': { doc: 'How long to wait for the moderation answer.', default: '2s' },
    'spec.request.moderation.failureMode': {
      doc: 'FailClosed or FailOpen when moderation is unavailable.',
      default: 'FailClosed',
    },
    'spec.request.denyList': {
      doc: 'Phrases (prompt-injection attempts and the like) matched case-insensitively.',
    },
    'spec.request.denyList.phrases': { doc: 'The phrases.' },
    'spec.request.denyList.action': { doc: 'Reject or Audit.', default: 'Reject' },
    'spec.response': { doc: 'Checks on what the provider answers.' },
    'spec.response.mask': {
      doc: 'Mask what the request detectors find in responses too, streamed responses included.',
      default: false,
    },
    'spec.rejection': { doc: 'The answer to a refused prompt (OpenAI error shape, code prompt_rejected).' },
    'spec.rejection.status': { doc: 'HTTP status, 400–499.', default: 400 },
    'spec.rejection.message': {
      doc: 'Error message.',
      default: 'The request was refused by a prompt guard.',
    },
  },
  TokenRateLimitPolicy: {
    'spec.targetRefs': {
      doc: "What the budgets apply to: Gateways, HTTPRoutes or AIBackends in the policy's namespace.",
    },
    'spec.targetRefs[].group': {
      doc: 'gateway.networking.k8s.io (Gateway, HTTPRoute) or sluice.dev (AIBackend).',
    },
    'spec.targetRefs[].kind': { doc: 'Gateway, HTTPRoute or AIBackend.' },
    'spec.targetRefs[].name': { doc: 'Name of the target.' },
    'spec.targetRefs[].sectionName': {
      doc: 'With an HTTPRoute: the `name` of one of its rules, to budget that rule only (no such rule: TargetNotFound).',
    },
    'spec.identity': { doc: 'How callers are identified as consumer and team.' },
    'spec.identity.apiKeys': { doc: 'API keys sent as Authorization: Bearer, one Secret each.' },
    'spec.identity.apiKeys[].secretRef': {
      doc: "A Secret in the policy's namespace with keys api-key, consumer and team.",
    },
    'spec.identity.apiKeys[].secretRef.name': { doc: 'Secret name.' },
    'spec.identity.jwt': { doc: 'Bearer JWTs verified against inline public keys.' },
    'spec.identity.jwt.issuer': { doc: 'Required iss claim.' },
    'spec.identity.jwt.audiences': { doc: 'Accepted aud values (any one).' },
    'spec.identity.jwt.jwks': { doc: 'The public keys inline, as a JWKS document (or `jwksUri`, not both).' },
    'spec.identity.jwt.jwksUri': {
      doc: "The issuer's JWKS endpoint; keys are fetched, cached for 10 minutes and re-fetched for an unknown `kid` (or `jwks`, not both).",
    },
    'spec.identity.jwt.jwks.keys': { doc: 'JSON Web Keys (RSA, EC or OKP).' },
    'spec.identity.jwt.consumerClaim': { doc: 'Claim naming the consumer.', default: 'sub' },
    'spec.identity.jwt.teamClaim': { doc: 'Claim naming the team.' },
    'spec.identity.trustedHeaders': {
      doc: 'Headers set by an authenticating proxy in front of Sluice (only safe when clients cannot reach Sluice directly).',
    },
    'spec.identity.trustedHeaders.consumer': { doc: 'Header naming the consumer.' },
    'spec.identity.trustedHeaders.team': { doc: 'Header naming the team.' },
    'spec.identity.required': { doc: 'Refuse anonymous callers with 401.', default: true },
    'spec.shadow': {
      doc: 'Count and report, never refuse (try a budget before enforcing it).',
      default: false,
    },
    'spec.failureMode': {
      doc: 'When Redis is unreachable: FailOpen admits requests, FailClosed refuses them.',
      default: 'FailOpen',
    },
    'spec.defaultMaxOutputTokens': {
      doc: 'Output tokens reserved for a request that sets no max_tokens, until its usage is known.',
      default: 1024,
    },
    'spec.limits': { doc: 'The budgets; names are unique.' },
    'spec.limits[].name': { doc: 'Budget name, shown in metrics and 429 answers.' },
    'spec.limits[].per': {
      doc: 'One budget for everyone (Global), or one per Consumer, Team, Model or Header value.',
      default: 'Global',
    },
    'spec.limits[].perHeader': { doc: 'With per: Header, the header whose value keys the budget.' },
    'spec.limits[].match': {
      doc: 'Only requests matching every condition given here count against this budget.',
    },
    'spec.limits[].match.consumers': { doc: 'Consumers this budget applies to.' },
    'spec.limits[].match.teams': { doc: 'Teams this budget applies to.' },
    'spec.limits[].match.models': { doc: 'Requested models this budget applies to.' },
    'spec.limits[].match.header': { doc: 'A request header and the values it must have.' },
    'spec.limits[].match.header.name': { doc: 'Header name.' },
    'spec.limits[].match.header.values': { doc: 'Accepted values.' },
    'spec.limits[].measure': {
      doc: 'What is counted: InputTokens, OutputTokens, TotalTokens, CostUSD or Requests.',
    },
    'spec.limits[].amount': { doc: 'How much per window.' },
    'spec.limits[].window': {
      doc: 'Fixed windows aligned to UTC: Minute, Hour, Day, or the calendar Month.',
    },
  },
};
