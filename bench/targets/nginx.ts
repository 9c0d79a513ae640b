import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

const NGINX = '/usr/sbin/nginx';

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
  workerProcesses = 1,
): Promise<TargetProcess> {
  const prefix = await mkdtemp(join(tmpdir(), 'sluice-bench-nginx-'));
  await mkdir(join(prefix, 'logs'));
  const conf = `worker_processes ${workerProcesses};
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
  return targetProcess(child, port, 'SIGQUIT', () => rm(prefix, { recursive: true, force: true }));
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

/** The 16 words every fixed answer carries (the fake provider's answers are 16 tokens too). */
const ANSWER_WORDS = Array.from({ length: 16 }, (_, i) => `word${i}`);
const USAGE = { prompt_tokens: 512, completion_tokens: 16, total_tokens: 528 };

/** An nginx `return` string: single quotes and backslashes escaped, newlines as nginx's `\n`. */
const nginxString = (text: string) =>
  `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;

/**
 * nginx answering every request with one fixed OpenAI chat completion (with usage): a provider that
 * is never the bottleneck, so a gateway's own cost shows (a Node fake provider caps nginx itself).
 */
export const FIXED_CHAT_LOCATION = `default_type application/json; return 200 ${nginxString(
  JSON.stringify({
    id: 'chatcmpl-fixed',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'bench-model',
    choices: [
      { index: 0, message: { role: 'assistant', content: ANSWER_WORDS.join(' ') }, finish_reason: 'stop' },
    ],
    usage: USAGE,
  }),
)};`;

/** Content chunks in FIXED_STREAM_LOCATION's stream (plus one usage chunk and `[DONE]`). */
export const FIXED_STREAM_CHUNKS = ANSWER_WORDS.length;

/** nginx answering every request with one fixed chat completion stream: 16 deltas, a usage chunk, [DONE]. */
export const FIXED_STREAM_LOCATION = `default_type text/event-stream; return 200 ${nginxString(
  [
    ...ANSWER_WORDS.map((word, i) => ({
      id: 'chatcmpl-fixed',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'bench-model',
      choices: [{ index: 0, delta: { content: i === 0 ? word : ` ${word}` }, finish_reason: null }],
    })),
    {
      id: 'chatcmpl-fixed',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'bench-model',
      choices: [],
      usage: USAGE,
    },
  ]
    .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
    .join('') + 'data: [DONE]\n\n',
)};`;
