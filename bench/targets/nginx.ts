import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from '../load/wait-for-port.ts';

const NGINX = '/usr/sbin/nginx';

export interface NginxProcess {
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs a private nginx (own prefix, foreground, one worker) listening on `port` with the given
 * `location /` body; `httpExtra` goes into the `http {}` block (e.g. an upstream); with `tls` it
 * terminates TLS 1.2/1.3 with that certificate.
 */
export async function startNginx(
  port: number,
  location: string,
  httpExtra = '',
  tls?: { certFile: string; keyFile: string },
): Promise<NginxProcess> {
  const prefix = await mkdtemp(join(tmpdir(), 'sluice-bench-nginx-'));
  await mkdir(join(prefix, 'logs'));
  const conf = `worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
${httpExtra}
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
${
  tls
    ? `    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
`
    : ''
}    location / { ${location} }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      child.kill('SIGQUIT');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

/** nginx answering a fixed small body: the upstream every target proxies to. */
export const STATIC_BODY_LOCATION = `default_type application/json; return 200 '{"ok":true,"from":"upstream"}';`;

/** nginx as a plain keep-alive reverse proxy: the practical ceiling for a proxy. */
export function reverseProxy(upstreamPort: number): { location: string; httpExtra: string } {
  return {
    location: 'proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection "";',
    httpExtra: `  upstream bench_upstream { server 127.0.0.1:${upstreamPort}; keepalive 128; }`,
  };
}
