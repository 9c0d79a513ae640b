#!/usr/bin/env node
// The `sluice` command. Sluice's sources are TypeScript that Node 24 runs directly (type stripping);
// on an older Node this launcher re-executes them with the Node 24 that `npm install` brings (the
// pinned `node` package), so `npx sluice` works on any Node from 20 on. Plain JavaScript on purpose:
// it must load where .ts cannot.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const main = new URL('./src/main.ts', import.meta.url);

if (Number(process.versions.node.split('.')[0]) >= REQUIRED_MAJOR) {
  await import(main.href);
} else {
  let pinned;
  try {
    pinned = createRequire(import.meta.url).resolve('node/bin/node');
  } catch {
    process.stderr.write(
      `sluice needs Node ${REQUIRED_MAJOR} (this is ${process.version}); run 'npm install' in the Sluice folder to get the pinned Node ${REQUIRED_MAJOR}, or install Node ${REQUIRED_MAJOR}\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(main), ...process.argv.slice(2)], { stdio: 'inherit' });
  // The child is the real process: signals go to it, and its exit is ours.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
