import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from './kube-config.ts';

async function kubeconfig(
  user: string,
  cluster = 'server: https://127.0.0.1:6443\n    certificate-authority: ca.pem',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kubeconfig-'));
  await writeFile(join(dir, 'ca.pem'), 'CA PEM');
  await writeFile(join(dir, 'client.crt'), 'CERT PEM');
  await writeFile(join(dir, 'client.key'), 'KEY PEM');
  await writeFile(join(dir, 'token'), 'file-token\n');
  const path = join(dir, 'config');
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: other
  context: {cluster: nope, user: nope}
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster:
    ${cluster}
users:
- name: u
  user:
${user}
`,
  );
  return path;
}

describe('kubeconfig loading (what kubectl accepts)', () => {
  it('reads the current context: server, CA and client certificate files relative to the file', async () => {
    const c = await loadKubeConfig(
      await kubeconfig('    client-certificate: client.crt\n    client-key: client.key'),
    );
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.ca).toBe('CA PEM');
    expect(await c.credentials()).toEqual({ headers: {}, cert: 'CERT PEM', key: 'KEY PEM' });
  });

  it('takes inline data, bearer tokens, token files (read again each time) and basic auth', async () => {
    const inline = await loadKubeConfig(
      await kubeconfig(
        `    client-certificate-data: ${btoa('C')}\n    client-key-data: ${btoa('K')}`,
        `server: https://k:1\n    certificate-authority-data: ${btoa('INLINE CA')}\n    insecure-skip-tls-verify: true`,
      ),
    );
    expect(inline.ca).toBe('INLINE CA');
    expect(inline.insecureSkipTlsVerify).toBe(true);
    expect(await inline.credentials()).toMatchObject({ cert: 'C', key: 'K' });
    const token = await loadKubeConfig(await kubeconfig('    token: abc'));
    expect((await token.credentials()).headers).toEqual({ authorization: 'Bearer abc' });
    const path = await kubeconfig('    tokenFile: token');
    const file = await loadKubeConfig(path);
    expect((await file.credentials()).headers).toEqual({ authorization: 'Bearer file-token' });
    await writeFile(join(path, '..', 'token'), 'rotated');
    expect((await file.credentials()).headers).toEqual({ authorization: 'Bearer rotated' });
    const basic = await loadKubeConfig(await kubeconfig('    username: ada\n    password: pw'));
    expect((await basic.credentials()).headers).toEqual({ authorization: `Basic ${btoa('ada:pw')}` });
  });

  it('runs an exec credential plugin with its env, and reuses its token until it expires', async () => {
    const path = await kubeconfig('');
    const plugin = join(path, '..', 'plugin.sh');
    const count = join(path, '..', 'count');
    await writeFile(
      plugin,
      `#!/bin/sh\necho x >> ${count}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "$PLUGIN_TOKEN"\n`,
    );
    await chmod(plugin, 0o755);
    const c = await loadKubeConfig(
      await kubeconfig(
        `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      env: [{name: PLUGIN_TOKEN, value: from-plugin}]`,
      ),
    );
    expect((await c.credentials()).headers).toEqual({ authorization: 'Bearer from-plugin' });
    expect((await c.credentials()).headers).toEqual({ authorization: 'Bearer from-plugin' });
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(count, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('says what is wrong with a kubeconfig it cannot use', async () => {
    await expect(loadKubeConfig(await kubeconfig('    auth-provider: {name: gcp}'))).rejects.toThrow(
      /auth-provider plugins are not supported/,
    );
    const noServer = await kubeconfig('    token: t', 'certificate-authority: ca.pem');
    await expect(loadKubeConfig(noServer)).rejects.toThrow(/has no server/);
    await expect(loadKubeConfig('/nonexistent/kubeconfig')).rejects.toThrow(/ENOENT/);
  });
});
