import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/install.ts';
import { readyz, waitFor } from '../cluster/sluice-process.ts';
import { gatewayYaml, serviceRouteYaml, serviceYaml } from '../support/gateway.ts';
import { send } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

interface ImageConfig {
  config: {
    User: string;
    Entrypoint: string[];
    Cmd: string[];
    Labels: Record<string, string>;
    Env: string[];
    ExposedPorts: object;
  };
}

/**
 * `npm run images` for real (buildah, vfs storage, no daemon), then each image unpacked with umoci
 * into an OCI runtime bundle and run by runc as a container: its own pid, mount, ipc and uts
 * namespaces, the image's user, a read-only root filesystem, the config folder mounted read-only.
 * The host network is kept so the test reaches it on loopback. (podman refuses to start containers
 * in this sandbox: it always sets RLIMIT_NOFILE/NPROC, which needs CAP_SYS_RESOURCE the sandbox
 * withholds, and crun rejects the hybrid cgroup v1/v2 hierarchy; runc on a bundle whose spec sets
 * no rlimits runs.)
 */
describe('npm run images: the operator and proxy images', () => {
  const archives: Record<string, string> = {};
  const work = mkdtempSync(join(tmpdir(), 'sluice-images-'));
  beforeAll(() => {
    const out = execFileSync('bash', [join(REPO_ROOT, 'images/build.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_200_000,
    });
    for (const line of out.trim().split('\n')) {
      const target = /sluice-(operator|proxy)-/.exec(line)?.[1];
      if (target) archives[target] = line;
    }
  }, 1_200_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Unpacks an image archive into an OCI runtime bundle: `<dir>/config.json` and `<dir>/rootfs`. */
  function unpack(target: 'operator' | 'proxy'): { bundle: string; image: ImageConfig } {
    const layout = join(work, `${target}-layout`);
    const bundle = join(work, `${target}-bundle`);
    rmSync(layout, { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
    mkdirSync(layout);
    execFileSync('tar', ['-xf', archives[target]!, '-C', layout]);
    execFileSync('umoci', ['unpack', '--image', `${layout}:sluice/${target}:${VERSION}`, bundle], {
      stdio: 'pipe',
    });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const blob = (digest: string) =>
      JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8'));
    const manifest = blob(index.manifests[0].digest);
    return { bundle, image: blob(manifest.config.digest) as ImageConfig };
  }

  it.each(['operator', 'proxy'] as const)(
    '%s: labelled, non-root, production dependencies only',
    (target) => {
      const { bundle, image } = unpack(target);
      expect(image.config.User).toBe('1000:1000');
      expect(image.config.Entrypoint).toEqual(['node', 'cli/src/main.ts']);
      expect(image.config.Labels).toMatchObject({
        'org.opencontainers.image.title': `sluice-${target}`,
        'org.opencontainers.image.version': VERSION,
        'org.opencontainers.image.licenses': 'Apache-2.0',
      });
      expect(image.config.Labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
      const modules = readdirSync(join(bundle, 'rootfs/app/node_modules'));
      for (const dev of ['vitest', 'typescript', '@biomejs', 'openai']) expect(modules).not.toContain(dev);
      for (const dep of ['fastify', 'undici', 'ioredis', 'yaml']) expect(modules).toContain(dep);
      expect(readdirSync(join(bundle, 'rootfs/app'))).not.toContain('test');
      const node = execFileSync(join(bundle, 'rootfs/usr/local/bin/node'), ['--version'], {
        encoding: 'utf8',
      });
      expect(node.trim()).toBe(`v${process.versions.node}`);
      // Started from the compile cache made at build time by this Node, not by type-stripping again.
      expect(image.config.Env).toContain('NODE_COMPILE_CACHE=/app/.cache/node-compile');
      const caches = readdirSync(join(bundle, 'rootfs/app/.cache/node-compile'));
      expect(caches.some((c) => c.startsWith(`v${process.versions.node}-`))).toBe(true);
    },
  );

  it('the proxy image runs as a container on a read-only root and serves traffic, then drains on SIGTERM', async () => {
    const backend: Server = createServer((req, res) => res.end(`backend saw ${req.url}`));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const backendPort = (backend.address() as AddressInfo).port;
    const [listener, admin] = [await freePort(), await freePort()];
    const config = join(work, 'config');
    mkdirSync(config, { recursive: true });
    writeFileSync(
      join(config, 'gateway.yaml'),
      gatewayYaml(listener) + serviceRouteYaml('web', 'web') + serviceYaml('web', [backendPort]),
    );
    const { bundle } = unpack('proxy');
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    delete spec.process.rlimits;
    // The image's CMD with this test's ports; everything else as the image says.
    spec.process.args = [
      ...spec.process.args.slice(0, -3),
      'standalone',
      '-f',
      '/etc/sluice/config',
      '--bind-address',
      '127.0.0.1',
      '--admin-port',
      String(admin),
    ];
    spec.root.readonly = true;
    spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    spec.mounts.push({
      destination: '/etc/sluice/config',
      type: 'bind',
      source: config,
      options: ['rbind', 'ro'],
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    expect(spec.process.user).toMatchObject({ uid: 1000, gid: 1000 });

    const id = `sluice-image-test-${process.pid}`;
    const child = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(
        () => readyz(admin),
        'the proxy container to be ready',
        60_000,
        () => out,
      );
      const r = await send(`http://127.0.0.1:${listener}/hello`);
      expect(r.status).toBe(200);
      expect(r.text).toBe('backend saw /hello');
      // The container's process runs as the image user, not root.
      const { pid } = JSON.parse(execFileSync('runc', ['state', id], { encoding: 'utf8' })) as {
        pid: number;
      };
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3)).toEqual([
        'node',
        'cli/src/main.ts',
        'standalone',
      ]);
      execFileSync('runc', ['kill', id, 'TERM']);
      await waitFor(
        () => child.exitCode !== null,
        'the container to exit after SIGTERM',
        45_000,
        () => out,
      );
      expect(child.exitCode).toBe(0);
      expect(out).toContain('draining and shutting down');
    } finally {
      if (child.exitCode === null) execFileSync('runc', ['kill', id, 'KILL']);
      execFileSync('runc', ['delete', '--force', id], { stdio: 'ignore' });
      backend.close();
    }
  }, 120_000);
});
