import { pino } from 'pino';

/** Where access-log lines go: standard output, a file (appended), or nowhere. */
export type AccessLogSink = 'stdout' | 'off' | { file: string };

export function parseAccessLogSink(value: string | undefined): AccessLogSink {
  if (value === undefined || value === 'stdout') return 'stdout';
  if (value === 'off') return 'off';
  return { file: value };
}

/**
 * One JSON line per request, written asynchronously (pino's SonicBoom: lines that arrive while a
 * write is in flight go out together in the next one), so under load logging costs a serialisation,
 * not a system call, per request, and a quiet gateway's lines are never held back. The field set is stable and documented (README,
 * "Access logs"); query strings, headers and bodies are never logged, so no credential can be.
 */
export class AccessLog {
  readonly #out: ReturnType<typeof pino.destination>;

  constructor(sink: Exclude<AccessLogSink, 'off'>) {
    this.#out = pino.destination({
      dest: sink === 'stdout' ? 1 : sink.file,
      sync: false,
      minLength: 0,
      mkdir: true,
    });
  }

  write(line: Record<string, unknown>): void {
    this.#out.write(`${JSON.stringify(line)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#out.flush(() => {
        this.#out.end();
        resolve();
      });
    });
  }
}
