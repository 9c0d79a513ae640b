import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isCidr } from './cidr.ts';
import { type ProxyConfig, ProxyConfigSchema } from './schema.ts';
import { guardPatternProblem, userRegexProblem } from './user-regex.ts';

export interface ConfigIssue {
  /** JSON-pointer-like path into the document, e.g. `/listeners/0/virtualHosts/1/routes/3/match`. */
  path: string;
  reason: string;
}

export class ConfigValidationError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`invalid proxy config: ${issues.map((i) => `${i.path || '/'}: ${i.reason}`).join('; ')}`);
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}

const schemaCheck = TypeCompiler.Compile(ProxyConfigSchema);
const MAX_REPORTED_ISSUES = 20;

/** Checks shape and cross-references; returns the typed config or throws ConfigValidationError. */
export function validateProxyConfig(doc: unknown): ProxyConfig {
  if (!schemaCheck.Check(doc)) {
    const issues: ConfigIssue[] = [];
    for (const e of schemaCheck.Errors(doc)) {
      issues.push({ path: e.path, reason: e.message });
      if (issues.length >= MAX_REPORTED_ISSUES) break;
    }
    throw new ConfigValidationError(issues);
  }
  const issues = semanticIssues(doc);
  if (issues.length > 0) throw new ConfigValidationError(issues);
  return doc;
}

function semanticIssues(config: ProxyConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const clusters = new Set<string>();
  config.clusters.forEach((c, i) => {
    if (clusters.has(c.name))
      issues.push({ path: `/clusters/${i}/name`, reason: `duplicate cluster ${c.name}` });
    clusters.add(c.name);
  });
  const aiBackends = new Set<string>();
  config.aiBackends.forEach((b, i) => {
    if (aiBackends.has(b.name))
      issues.push({ path: `/aiBackends/${i}/name`, reason: `duplicate AI backend ${b.name}` });
    aiBackends.add(b.name);
    const targets = new Set<string>();
    b.targets.forEach((t, ti) => {
      if (targets.has(t.name))
        issues.push({ path: `/aiBackends/${i}/targets/${ti}/name`, reason: `duplicate target ${t.name}` });
      targets.add(t.name);
    });
  });
  const jwt = config.identity?.jwt;
  if (jwt && (jwt.jwks === undefined) === (jwt.jwksUri === undefined))
    issues.push({ path: '/identity/jwt', reason: 'exactly one of jwks and jwksUri is needed' });
  config.guards.forEach((g, gi) => {
    g.regexes.forEach((r, ri) => {
      const problem = guardPatternProblem(r.pattern);
      if (problem) issues.push({ path: `/guards/${gi}/regexes/${ri}/pattern`, reason: problem });
    });
  });
  const securityNames = new Set<string>();
  (config.security ?? []).forEach((sec, si) => {
    const at = `/security/${si}`;
    if (securityNames.has(sec.name))
      issues.push({ path: `${at}/name`, reason: `duplicate security ${sec.name}` });
    securityNames.add(sec.name);
    if (sec.extAuth && !clusters.has(sec.extAuth.cluster))
      issues.push({ path: `${at}/extAuth/cluster`, reason: `unknown cluster ${sec.extAuth.cluster}` });
    for (const [ri, rule] of (sec.authorization?.rules ?? []).entries())
      for (const [ci, cidr] of (rule.clientCIDRs ?? []).entries())
        if (!isCidr(cidr))
          issues.push({
            path: `${at}/authorization/rules/${ri}/clientCIDRs/${ci}`,
            reason: `${cidr} is not a CIDR`,
          });
    for (const [pi, p] of (sec.jwt?.providers ?? []).entries())
      if ((p.jwks === undefined) === (p.jwksUri === undefined))
        issues.push({
          path: `${at}/jwt/providers/${pi}`,
          reason: 'exactly one of jwks and jwksUri is needed',
        });
  });
  const trafficNames = new Set<string>();
  (config.traffic ?? []).forEach((t, ti) => {
    const at = `/traffic/${ti}`;
    if (trafficNames.has(t.name)) issues.push({ path: `${at}/name`, reason: `duplicate traffic ${t.name}` });
    trafficNames.add(t.name);
    const rules = [
      ...(t.rateLimit?.local ?? []).map((r, i) => [`${at}/rateLimit/local/${i}`, r] as const),
      ...(t.rateLimit?.global?.rules ?? []).map((r, i) => [`${at}/rateLimit/global/rules/${i}`, r] as const),
    ];
    for (const [ruleAt, rule] of rules)
      rule.clientSelectors.forEach((sel, si) => {
        const selAt = `${ruleAt}/clientSelectors/${si}`;
        if (sel.sourceCIDR && !isCidr(sel.sourceCIDR.value))
          issues.push({ path: `${selAt}/sourceCIDR`, reason: `${sel.sourceCIDR.value} is not a CIDR` });
        checkRegex(
          sel.path?.type === 'RegularExpression' ? sel.path.value : undefined,
          `${selAt}/path`,
          issues,
        );
        sel.headers?.forEach((h, hi) => {
          if (h.type !== 'Distinct' && h.value === undefined)
            issues.push({ path: `${selAt}/headers/${hi}`, reason: `a ${h.type} header match needs a value` });
          checkRegex(h.type === 'RegularExpression' ? h.value : undefined, `${selAt}/headers/${hi}`, issues);
        });
      });
  });
  // UDP ports are a separate space from TCP ones (HTTP, HTTPS, TCP and TLS all listen on TCP).
  const ports = new Set<string>();
  config.listeners.forEach((l, li) => {
    const port = `${l.protocol === 'UDP' ? 'udp' : 'tcp'}/${l.port}`;
    if (ports.has(port)) issues.push({ path: `/listeners/${li}/port`, reason: `duplicate port ${l.port}` });
    ports.add(port);
    if (l.protocol === 'HTTPS' && !l.tls)
      issues.push({ path: `/listeners/${li}/tls`, reason: 'an HTTPS listener needs tls certificates' });
    (l.streamRoutes ?? []).forEach((r, ri) => {
      r.backends.forEach((b, bi) => {
        if (b.cluster !== undefined && !clusters.has(b.cluster))
          issues.push({
            path: `/listeners/${li}/streamRoutes/${ri}/backends/${bi}/cluster`,
            reason: `unknown cluster ${b.cluster}`,
          });
      });
    });
    l.virtualHosts.forEach((vh, vi) => {
      vh.routes.forEach((r, ri) => {
        const at = `/listeners/${li}/virtualHosts/${vi}/routes/${ri}`;
        for (const [bi, b] of r.backends.entries()) {
          if (b.cluster !== undefined && !clusters.has(b.cluster))
            issues.push({ path: `${at}/backends/${bi}/cluster`, reason: `unknown cluster ${b.cluster}` });
        }
        for (const [ai, b] of (r.aiBackends ?? []).entries()) {
          if (b.aiBackend !== undefined && !aiBackends.has(b.aiBackend))
            issues.push({
              path: `${at}/aiBackends/${ai}/aiBackend`,
              reason: `unknown AI backend ${b.aiBackend}`,
            });
        }
        for (const [mi, m] of r.mirrors.entries()) {
          if (!clusters.has(m.cluster))
            issues.push({ path: `${at}/mirrors/${mi}/cluster`, reason: `unknown cluster ${m.cluster}` });
        }
        checkRegex(
          r.match.path.type === 'RegularExpression' ? r.match.path.value : undefined,
          `${at}/match/path`,
          issues,
        );
        r.match.headers.forEach((h, hi) => {
          checkRegex(
            h.type === 'RegularExpression' ? h.value : undefined,
            `${at}/match/headers/${hi}`,
            issues,
          );
        });
        r.match.queryParams.forEach((q, qi) => {
          checkRegex(
            q.type === 'RegularExpression' ? q.value : undefined,
            `${at}/match/queryParams/${qi}`,
            issues,
          );
        });
        const prefixRewrite =
          r.rewrite?.path?.type === 'ReplacePrefixMatch' || r.redirect?.path?.type === 'ReplacePrefixMatch';
        if (prefixRewrite && r.match.path.type !== 'PathPrefix')
          issues.push({ path: `${at}/match/path`, reason: 'ReplacePrefixMatch needs a PathPrefix match' });
        if (r.security !== undefined && !securityNames.has(r.security))
          issues.push({ path: `${at}/security`, reason: `unknown security ${r.security}` });
        if (r.traffic !== undefined && !trafficNames.has(r.traffic))
          issues.push({ path: `${at}/traffic`, reason: `unknown traffic ${r.traffic}` });
        if (r.redirect && r.rewrite)
          issues.push({ path: at, reason: 'redirect and rewrite cannot be combined' });
      });
    });
  });
  return issues;
}

function checkRegex(pattern: string | undefined, path: string, issues: ConfigIssue[]): void {
  if (pattern === undefined) return;
  const problem = userRegexProblem(pattern);
  if (problem) issues.push({ path, reason: problem });
}
