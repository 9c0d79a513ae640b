/**
 * The demo backend as a command: `node tools/echo-server/main.ts --port 3001 --name v2`. Answers every
 * request with JSON naming itself and echoing method, path, headers and body.
 */
import { parseArgs } from 'node:util';
import { createEchoServer } from './echo-server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'demo' },
  },
});
createEchoServer({ name: values.name }).listen(Number(values.port), values.host, () => {
  process.stdout.write(`echo backend "${values.name}" on http://${values.host}:${values.port}\n`);
});
