import { createHash } from 'node:crypto';

/**
 * Names of the objects rendered for one Gateway. Kubernetes names are capped (63 characters for
 * Services and labels), so a long Gateway name is cut and made unique again with a short hash.
 */
export function proxyName(gatewayName: string): string {
  const name = `sluice-${gatewayName}`;
  if (name.length <= 52) return name;
  const hash = createHash('sha256').update(gatewayName).digest('hex').slice(0, 8);
  return `${name.slice(0, 43).replace(/[-.]+$/, '')}-${hash}`;
}

export interface ProxyObjectNames {
  /** Deployment, Service, ServiceAccount, Role, RoleBinding and PodDisruptionBudget share this name. */
  workload: string;
  configMap: string;
  secret: string;
  /** The Redis URL (it may hold a password), read by the kubelet into the proxy's environment. */
  redisSecret: string;
}

export function proxyObjectNames(gatewayName: string): ProxyObjectNames {
  const workload = proxyName(gatewayName);
  return {
    workload,
    configMap: `${workload}-config`,
    secret: `${workload}-credentials`,
    redisSecret: `${workload}-redis`,
  };
}
