import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs once before the suite: makes sure the real parts the tests use are installed. */
export default function setup(): void {
  execFileSync(join(import.meta.dirname, 'ensure-test-deps.sh'), { stdio: 'inherit' });
}
