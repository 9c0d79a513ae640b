import { emptyResources, type Resources } from '../../operator/src/resources/snapshot.ts';
import { translate } from '../../operator/src/translator/translate.ts';

export interface TranslateMeasurement {
  routes: number;
  coldMs: number;
  warmMs: number;
  heapMiB: number;
}

/** A Gateway with `routes` HTTPRoutes over 100 hostnames and 50 Services, as a control plane sees it. */
function snapshot(routes: number): Resources {
  const r = emptyResources();
  r.gatewayClasses.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'sluice' },
    spec: { controllerName: 'sluice.dev/gateway-controller' },
  });
  r.gateways.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'default' },
    spec: { gatewayClassName: 'sluice', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
  });
  for (let i = 0; i < 50; i++)
    r.services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
  for (let i = 0; i < routes; i++)
    r.httpRoutes.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${i}`, namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: [`host-${i % 100}.example.com`],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: `/api/${i}` },
                headers: [{ name: 'x-version', value: `${i}` }],
              },
            ],
            backendRefs: [{ name: `svc-${i % 50}`, port: 80 }],
          },
        ],
      },
    });
  return r;
}

/** Scenario (g): translating 1,000 and 5,000 routes, first call (cold) and second (warm). */
export function measureTranslation(routes: number): TranslateMeasurement {
  const resources = snapshot(routes);
  const options = { controllerName: 'sluice.dev/gateway-controller', now: Date.now() };
  let t = performance.now();
  translate(resources, options);
  const coldMs = performance.now() - t;
  t = performance.now();
  translate(resources, options);
  return { routes, coldMs, warmMs: performance.now() - t, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
}
