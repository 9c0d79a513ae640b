/**
 * The Node.js floor: the least a Node reverse proxy does per request, with the HTTP stack Sluice is
 * built on (node:http serving, undici forwarding over a keep-alive pool) and nothing else — no
 * routing, no config, no headers rewritten beyond hop-by-hop ones, no logging, no metrics. Sluice's
 * rows read against it show what Sluice's own code costs, and nginx's against it what the runtime
 * does. Run as a process: `node node-floor.ts <port> <upstreamPort>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function serve(port: number, upstreamPort: number): void {
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
  createServer((req, res) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool
      .request({
        path: req.url ?? '/',
        method: req.method as 'GET',
        headers: forwardable(req.headers),
        body: hasBody ? req : null,
      })
      .then(
        ({ statusCode, headers, body }) => {
          res.writeHead(statusCode, forwardable(headers));
          body.pipe(res);
        },
        () => {
          res.statusCode = 502;
          res.end();
        },
      );
  }).listen(port, '127.0.0.1');
}

export async function startNodeFloor(port: number, upstreamPort: number): Promise<TargetProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [import.meta.filename, String(port), String(upstreamPort)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return targetProcess(child, port, 'SIGTERM');
}

if (import.meta.main) serve(Number(process.argv[2]), Number(process.argv[3]));
