import type { SonicBoom } from 'sonic-boom';

import { logDestination, PIPE_BUF, SHARED_OUTPUT } from '../../../lib/src/logging/log-destination.ts';
import type { OtlpLogOptions, OtlpLogSink } from '../../../lib/src/telemetry/otlp-log-sink.ts';

/** Where access-log lines go: standard output, a file (appended), an OTLP collector, or nowhere. */
export type AccessLogSink = 'stdout' | 'off' | { file: string } | { otlp: OtlpLogOptions };

/** The flag's value; `otlp` is resolved by the caller, which knows the collector. */
export function parseAccessLogSink(value: string | undefined): AccessLogSink | 'otlp' {
  if (value === undefined || value === 'stdout') return 'stdout';
  if (value === 'off' || value === 'otlp') return value;
  return { file: value };
}

/**
 * One JSON line (or a line from a text template) per request, written asynchronously in batches
 * (see BATCH_CHARS: under load a system call per ~30 lines, and a quiet gateway's lines are held back
 * at most FLUSH_MS) through pino's SonicBoom. The field set is stable and documented (README,
 * "Access logs"); query strings, headers and bodies are never logged, so no credential can be.
 */
export interface AccessLogFilter {
  /** Only answers with at least this status (say 400: errors only). */
  minStatus: number;
  /** Share of successful answers (status below 400) logged; errors are always logged. */
  sampleRatio: number;
  /** Only these top-level fields (all when undefined). */
  fields: readonly string[] | undefined;
  /**
   * A text line instead of JSON: `{field}` placeholders, dotted for nested fields (`{ai.model}`),
   * `-` where a field is absent, e.g. `{time} {method} {path} {status} {duration_ms}ms`.
   */
  template?: string | undefined;
}

export const LOG_EVERYTHING: AccessLogFilter = { minStatus: 0, sampleRatio: 1, fields: undefined };

/** A template split once into literal text and field paths, rendered per line without regexes. */
export function compileTemplate(template: string): (line: Record<string, unknown>) => string {
  const parts = template.split(/\{([\w.]+)\}/);
  const paths = parts.map((p, i) => (i % 2 === 1 ? p.split('.') : undefined));
  return (line) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const path = paths[i];
      if (!path) {
        out += parts[i];
        continue;
      }
      let value: unknown = line;
      for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
      out +=
        value === undefined || value === null
          ? '-'
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value);
    }
    return out;
  };
}

/**
 * Lines go to the writer in batches of about this many characters (one string, one system call, for
 * some 30 lines under load: cheaper than SonicBoom's per-line buffering, which measures its whole
 * buffer on every write), and any partial batch within FLUSH_MS.
 */
const BATCH_CHARS = SHARED_OUTPUT
  ? // A batch must fit one unsplittable write (a UTF-8 character is at most 3 bytes per UTF-16 unit).
    Math.floor(PIPE_BUF / 3)
  : 8 * 1024;
const FLUSH_MS = 200;

export class AccessLog {
  /** Exactly one of the two: a file descriptor sink (stdout, a file) or an OTLP collector. */
  readonly #out: SonicBoom | undefined;
  readonly #otlp: OtlpLogSink | undefined;
  readonly #filter: AccessLogFilter;
  readonly #render: ((line: Record<string, unknown>) => string) | undefined;
  /** Standard output is flushed at close, never closed: the process's own log still uses it. */
  readonly #toStdout: boolean;
  /** Writes out a partial batch now and then (file and stdout sinks). */
  #flusher: NodeJS.Timeout | undefined;
  /** Lines not yet handed to the writer, and their length in characters. */
  #batch: string[] = [];
  #batched = 0;

  /** An OTLP sink is built by `AccessLog.open`, which loads the OTel logs SDK only when needed. */
  constructor(sink: 'stdout' | { file: string } | OtlpLogSink, filter: AccessLogFilter = LOG_EVERYTHING) {
    this.#filter = filter;
    this.#render = filter.template === undefined ? undefined : compileTemplate(filter.template);
    this.#toStdout = sink === 'stdout';
    if (typeof sink === 'string' || 'file' in sink) {
      this.#out = logDestination(sink === 'stdout' ? 1 : sink.file);
      // Lines wait for a batch only so long: a quiet gateway's lines still show within a moment.
      this.#flusher = setInterval(() => this.#flush(), FLUSH_MS);
      this.#flusher.unref();
    } else this.#otlp = sink;
  }

  static async open(sink: Exclude<AccessLogSink, 'off'>, filter?: AccessLogFilter): Promise<AccessLog> {
    if (typeof sink === 'string' || 'file' in sink) return new AccessLog(sink, filter);
    const { OtlpLogSink } = await import('../../../lib/src/telemetry/otlp-log-sink.ts');
    return new AccessLog(new OtlpLogSink(sink.otlp), filter);
  }

  /** Whether an answer with this status is logged (checked before the line is built). */
  wants(status: number): boolean {
    const f = this.#filter;
    if (status < f.minStatus) return false;
    return status >= 400 || f.sampleRatio >= 1 || Math.random() < f.sampleRatio;
  }

  write(line: Record<string, unknown>): void {
    const fields = this.#filter.fields;
    const kept = fields ? Object.fromEntries(fields.filter((k) => k in line).map((k) => [k, line[k]])) : line;
    const text = this.#render?.(line);
    if (this.#otlp) this.#otlp.write(text ?? kept, { traceId: line.trace_id, spanId: line.span_id });
    else {
      const entry = `${text ?? JSON.stringify(kept)}\n`;
      // Flushed before the batch would pass the limit, so a batch stays within it (a longer line alone).
      if (this.#batched + entry.length > BATCH_CHARS) this.#flush();
      this.#batch.push(entry);
      this.#batched += entry.length;
    }
  }

  /** Hands the batch to the writer as one string. */
  #flush(): void {
    if (this.#batch.length === 0) return;
    this.#out!.write(this.#batch.join(''));
    this.#batch = [];
    this.#batched = 0;
  }

  /** Writes what is buffered (opening the file first if it is not open yet) and closes the sink. */
  close(): Promise<void> {
    if (this.#otlp) return this.#otlp.close();
    clearInterval(this.#flusher);
    this.#flush();
    const out = this.#out!;
    return new Promise((resolve) => {
      if (this.#toStdout) return out.flush(() => resolve());
      out.once('close', () => resolve());
      out.end();
    });
  }
}
