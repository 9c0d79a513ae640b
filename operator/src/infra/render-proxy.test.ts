import { describe, expect, it } from 'vitest';
import { unpackConfig, unpackSecrets } from '../../../proxy/src/config/delivery.ts';
import { PROXY_CONFIG_VERSION, type ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { proxyName } from './names.ts';
import { GATEWAY_NAME_LABEL, renderProxyInfra } from './render-proxy.ts';

const config: ProxyConfig = {
  version: PROXY_CONFIG_VERSION,
  gateway: { namespace: 'team-a', name: 'gw' },
  listeners: [{ name: 'team-a/gw/8080', port: 8080, protocol: 'HTTP', virtualHosts: [] }],
  clusters: [],
  aiBackends: [],
  budgets: [],
  guards: [],
};
const options = { image: 'sluice/proxy:test', replicas: 2, logLevel: 'info', adminPort: 9901 };
const owner = { namespace: 'team-a', name: 'gw', uid: 'uid-1' };

describe('renderProxyInfra', () => {
  it('renders the same bytes for the same inputs, so a restarted operator changes nothing', () => {
    const a = JSON.stringify(renderProxyInfra(owner, config, { 'team-a/key': { k: 'v' } }, options));
    const b = JSON.stringify(
      renderProxyInfra(owner, structuredClone(config), { 'team-a/key': { k: 'v' } }, options),
    );
    expect(a).toBe(b);
  });

  it('carries the config and credentials in a form the proxy unpacks back to the same values', () => {
    const objects = renderProxyInfra(owner, config, { 'team-a/key': { 'api-key': 's3cret' } }, options);
    const cm = objects.find((o) => o.kind === 'ConfigMap') as unknown as {
      binaryData: Record<string, string>;
    };
    const secret = objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name.endsWith('-credentials'),
    ) as unknown as { data: Record<string, string> };
    expect(unpackConfig(cm.binaryData)).toEqual(config);
    expect(unpackSecrets(secret.data)).toEqual({ 'team-a/key': { 'api-key': 's3cret' } });
    expect(JSON.stringify(cm)).not.toContain('s3cret');
  });

  it('keeps config changes out of the pod template (hot swap, no rollout)', () => {
    const changed = {
      ...config,
      listeners: [{ ...config.listeners[0]!, virtualHosts: [{ hostname: '*', routes: [] }] }],
    };
    const template = (c: ProxyConfig) =>
      JSON.stringify(
        (
          renderProxyInfra(owner, c, {}, options).find((o) => o.kind === 'Deployment') as unknown as {
            spec: unknown;
          }
        ).spec,
      );
    expect(template(changed)).toBe(template(config));
  });

  it('cuts long Gateway names to valid object names that stay unique', () => {
    const long = 'a'.repeat(80);
    expect(proxyName(long).length).toBeLessThanOrEqual(52);
    expect(proxyName(long)).not.toBe(proxyName(`${'a'.repeat(79)}b`));
    expect(proxyName('short')).toBe('sluice-short');
  });

  const envOf = (objects: ReturnType<typeof renderProxyInfra>) =>
    (
      objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { template: { spec: { containers: { env: unknown[] }[] } } };
      }
    ).spec.template.spec.containers[0]!.env;

  it('runs the worker count the operator was given in every proxy pod', () => {
    expect(envOf(renderProxyInfra(owner, config, {}, { ...options, workers: '4' }))).toEqual([
      { name: 'SLUICE_WORKERS', value: '4' },
    ]);
    expect(envOf(renderProxyInfra(owner, config, {}, { ...options, workers: '1' }))).toEqual([]);
  });

  it("hands proxies the operator's telemetry settings, overridden per Gateway by its annotations", () => {
    const withDefaults = {
      ...options,
      telemetry: { otlpEndpoint: 'http://collector:4318', accessLog: 'stdout' },
    };
    expect(envOf(renderProxyInfra(owner, config, {}, withDefaults))).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://collector:4318' },
      { name: 'SLUICE_ACCESS_LOG', value: 'stdout' },
    ]);
    const annotated = {
      ...owner,
      annotations: {
        'telemetry.sluice.dev/otlp-endpoint': 'http://team-a-collector:4318',
        'telemetry.sluice.dev/otlp-protocol': 'http/protobuf',
        'telemetry.sluice.dev/trace-sampling-ratio': '0.1',
        'telemetry.sluice.dev/access-log': 'off',
        'telemetry.sluice.dev/access-log-format': '{method} {path} {status}',
        'telemetry.sluice.dev/trace-propagators': 'tracecontext,b3',
        'telemetry.sluice.dev/otlp-headers-secret': 'collector-auth',
      },
    };
    expect(envOf(renderProxyInfra(annotated, config, {}, withDefaults))).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://team-a-collector:4318' },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
      { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.1' },
      { name: 'OTEL_PROPAGATORS', value: 'tracecontext,b3' },
      { name: 'SLUICE_ACCESS_LOG', value: 'off' },
      { name: 'SLUICE_ACCESS_LOG_FORMAT', value: '{method} {path} {status}' },
      // The collector's API key stays in its Secret: the kubelet resolves the reference.
      {
        name: 'OTEL_EXPORTER_OTLP_HEADERS',
        valueFrom: { secretKeyRef: { name: 'collector-auth', key: 'headers' } },
      },
    ]);
  });

  it('puts the Gateway infrastructure labels and annotations on every object and on the pods', () => {
    const withInfra = {
      ...owner,
      infrastructure: {
        labels: { team: 'payments', [GATEWAY_NAME_LABEL]: 'forged' },
        annotations: { 'cost-center': '42' },
      },
    };
    const objects = renderProxyInfra(withInfra, config, {}, options);
    for (const o of objects) {
      expect(o.metadata.labels, o.kind).toMatchObject({ team: 'payments', [GATEWAY_NAME_LABEL]: 'gw' });
      expect(o.metadata.annotations, o.kind).toMatchObject({ 'cost-center': '42' });
    }
    const pod = (
      objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: {
          template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
        };
      }
    ).spec.template.metadata;
    expect(pod.labels).toMatchObject({ team: 'payments', [GATEWAY_NAME_LABEL]: 'gw' });
    expect(pod.annotations).toEqual({ 'cost-center': '42' });
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    expect(Object.keys(cm.metadata.annotations!)).toContain('sluice.dev/secrets-digest');
  });

  it('hands proxies the Redis URL through a Secret of their own, never in the Deployment', () => {
    const url = 'redis://:p4ssw0rd@redis.sluice-system:6379';
    const objects = renderProxyInfra(owner, config, {}, { ...options, redisUrl: url });
    const redis = objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name === `${proxyName('gw')}-redis`,
    ) as unknown as {
      data: Record<string, string>;
    };
    expect(Buffer.from(redis.data.url!, 'base64').toString()).toBe(url);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(JSON.stringify(deployment)).not.toContain('p4ssw0rd');
    expect(JSON.stringify(deployment)).toContain(
      JSON.stringify({
        name: 'SLUICE_REDIS_URL',
        valueFrom: { secretKeyRef: { name: `${proxyName('gw')}-redis`, key: 'url' } },
      }),
    );
    // Without Redis the Secret stays, empty, so switching Redis off leaves no URL behind.
    const off = renderProxyInfra(owner, config, {}, options);
    expect(off.find((o) => o.metadata.name === `${proxyName('gw')}-redis`)).toMatchObject({ data: {} });
    expect(JSON.stringify(off.find((o) => o.kind === 'Deployment'))).not.toContain('SLUICE_REDIS_URL');
  });
});
