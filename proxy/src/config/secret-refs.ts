import type { ProxyConfig } from './schema.ts';

/** One value a config needs from a Secret, and what needs it (for error messages). */
export interface SecretUse {
  secret: string;
  key: string;
  usedBy: string;
}

/**
 * Every Secret value a config references: provider credentials, API keys and htpasswd files of callers, listener
 * certificates. The one list both sides use: the operator delivers exactly these Secrets, the proxy
 * refuses a config whose delivered credentials lack one of them.
 */
export function secretUses(config: ProxyConfig): SecretUse[] {
  return [
    ...config.aiBackends.flatMap((b) =>
      b.targets.flatMap((t) => (t.credentials ? [{ ...t.credentials, usedBy: `${b.name}/${t.name}` }] : [])),
    ),
    ...(config.identity?.apiKeys ?? []).map((k, i) => ({
      ...k.credentials,
      usedBy: `identity.apiKeys[${i}]`,
    })),
    ...(config.security ?? []).flatMap((sec) => [
      ...(sec.apiKeyAuth?.clients ?? []).map((c) => ({ ...c.credentials, usedBy: `${sec.name} apiKeyAuth` })),
      ...(sec.basicAuth ? [{ ...sec.basicAuth.users, usedBy: `${sec.name} basicAuth` }] : []),
      ...(sec.oidc ? [{ ...sec.oidc.clientSecret, usedBy: `${sec.name} oidc` }] : []),
    ]),
    ...config.listeners.flatMap((l) =>
      (l.tls?.certificates ?? []).flatMap((c) =>
        c.secrets.flatMap((secret) => [
          { secret, key: 'tls.crt', usedBy: l.name },
          { secret, key: 'tls.key', usedBy: l.name },
        ]),
      ),
    ),
  ];
}
