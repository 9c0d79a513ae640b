import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
// The library's generated protobuf types: the reference decoder for both encodings.
import * as generated from '@opentelemetry/otlp-transformer/build/src/generated/root.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSpans } from '../../lib/src/telemetry/otlp-span-encoding.ts';

interface MessageType {
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: Record<string, unknown>): unknown;
}
const Request = (
  generated as unknown as {
    default: { opentelemetry: { proto: { collector: { trace: { v1: Record<string, MessageType> } } } } };
  }
).default.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest!;

/** Both encodings decoded by the library's protobuf types, with every default filled in. */
function decoded(bytes: Uint8Array): unknown {
  return Request.toObject(Request.decode(bytes), {
    longs: String,
    bytes: String,
    enums: Number,
    defaults: true,
    arrays: true,
  });
}

const text = fc.string({ unit: 'grapheme', maxLength: 60 });
const scalar = fc.oneof(
  text,
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noInteger: true }),
  // Around the one-byte length limit (127 bytes) in UTF-16 units and UTF-8 bytes.
  fc.constantFrom(
    '€'.repeat(42),
    '€'.repeat(43),
    '€'.repeat(50),
    'a'.repeat(127),
    'é'.repeat(64),
    '😀'.repeat(30),
  ),
);
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  fc.array(text, { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
);
const attributes = fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), value, {
  maxKeys: 12,
}) as fc.Arbitrary<Attributes>;
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

interface SpanSpec {
  tracer: number;
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  later: Attributes;
  events: { name: string; attributes?: Attributes }[];
  links: { traceId: string; spanId: string; attributes?: Attributes; remote: boolean }[];
  status?: { code: 1 | 2; message?: string };
  parent: 'none' | 'remote' | 'local';
  traceState?: string;
  long: boolean;
}

const spanSpec: fc.Arbitrary<SpanSpec> = fc.record(
  {
    tracer: fc.integer({ min: 0, max: 2 }),
    name: text,
    kind: fc.constantFrom(
      SpanKind.INTERNAL,
      SpanKind.SERVER,
      SpanKind.CLIENT,
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
    ),
    attributes,
    later: attributes,
    events: fc.array(fc.record({ name: text, attributes }, { requiredKeys: ['name'] }), { maxLength: 3 }),
    links: fc.array(
      fc.record(
        { traceId: hex(16), spanId: hex(8), attributes, remote: fc.boolean() },
        { requiredKeys: ['traceId', 'spanId', 'remote'] },
      ),
      { maxLength: 2 },
    ),
    status: fc.record(
      { code: fc.constantFrom(1 as const, 2 as const), message: text },
      { requiredKeys: ['code'] },
    ),
    parent: fc.constantFrom('none' as const, 'remote' as const, 'local' as const),
    traceState: fc.constantFrom('vendor=abc', 'a=1,b=2'),
    // A span whose text alone passes 128 bytes and 16 KiB: multi-byte length prefixes.
    long: fc.boolean(),
  },
  { requiredKeys: ['tracer', 'name', 'kind', 'attributes', 'later', 'events', 'links', 'parent', 'long'] },
);

/** Real SDK spans (two resources, three instrumentation scopes) built from the specs. */
function spansOf(specs: SpanSpec[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const providers = [
    resourceFromAttributes({ 'service.name': 'sluice-proxy', 'k8s.pod.name': 'p-1' }),
    resourceFromAttributes({ 'service.name': 'sluice-operator' }),
  ].map(
    (resource) => new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  const tracers = [
    providers[0]!.getTracer('sluice-proxy'),
    providers[0]!.getTracer('other', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }),
    providers[1]!.getTracer('sluice-operator'),
  ];
  const localParent = tracers[0]!.startSpan('parent');
  for (const spec of specs) {
    let parent: Context | undefined;
    if (spec.parent === 'local') parent = trace.setSpan(ROOT_CONTEXT, localParent);
    if (spec.parent === 'remote')
      parent = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: 'ab'.repeat(16),
        spanId: 'cd'.repeat(8),
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: spec.traceState ? new TraceState(spec.traceState) : undefined,
      });
    const span = tracers[spec.tracer]!.startSpan(
      spec.long ? spec.name.repeat(300) : spec.name,
      {
        kind: spec.kind,
        attributes: spec.attributes,
        links: spec.links.map((l) => ({
          context: {
            traceId: l.traceId,
            spanId: l.spanId,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: l.remote,
          },
          attributes: l.attributes,
        })),
      },
      parent,
    );
    span.setAttributes(spec.later);
    if (spec.long) span.setAttribute('long', 'é'.repeat(9000));
    for (const event of spec.events) span.addEvent(event.name, event.attributes);
    if (spec.status) span.setStatus(spec.status);
    span.end();
  }
  localParent.end();
  return exporter.getFinishedSpans();
}

describe('OTLP span encoding', () => {
  it('decodes to exactly what the OTel library encodes, for any spans the SDK makes', () => {
    fc.assert(
      fc.property(fc.array(spanSpec, { maxLength: 12 }), (specs) => {
        const spans = spansOf(specs);
        expect(decoded(encodeSpans(spans))).toEqual(
          decoded(ProtobufTraceSerializer.serializeRequest(spans)!),
        );
      }),
      {
        numRuns: 300,
        // Found by this property once: an attribute named __proto__ gives the SDK's attributes
        // object inherited keys, which the encoder must not send.
        examples: [
          [
            [
              {
                tracer: 0,
                name: 'proto',
                kind: SpanKind.INTERNAL,
                attributes: {},
                later: JSON.parse('{"__proto__": [0]}') as Attributes,
                events: [],
                links: [],
                parent: 'none',
                long: false,
              },
            ],
          ],
        ],
      },
    );
  });

  it('keeps the message whole when a linked id is not hex or too long', () => {
    const spec = (name: string, traceId: string): SpanSpec => ({
      tracer: 0,
      name,
      kind: SpanKind.CLIENT,
      attributes: { after: 'still here' },
      later: {},
      events: [],
      links: [{ traceId, spanId: 'zz'.repeat(8), remote: true }],
      parent: 'none',
      long: false,
    });
    const spans = spansOf([
      spec('bad-hex', 'not-hex-at-all'),
      spec('long', 'ab'.repeat(200)),
      spec('ok', 'cd'.repeat(16)),
    ]);
    const request = decoded(encodeSpans(spans)) as {
      resourceSpans: { scopeSpans: { spans: { name: string; attributes: { key: string }[] }[] }[] }[];
    };
    const names = request.resourceSpans.flatMap((r) =>
      r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)),
    );
    expect(names).toEqual(['bad-hex', 'long', 'ok', 'parent']);
  });

  it('writes exact nanosecond timestamps, including far ones', () => {
    const [span] = spansOf([
      {
        tracer: 0,
        name: 'x',
        kind: SpanKind.SERVER,
        attributes: {},
        later: {},
        events: [],
        links: [],
        parent: 'none',
        long: false,
      },
    ]);
    for (const time of [
      [0, 0],
      [1, 999_999_999],
      [1_733_400_000, 123_456_789],
      [4_000_000_000, 999_999_999],
    ] as const) {
      const at = Object.assign(Object.create(span!), {
        startTime: [...time],
        endTime: [...time],
      }) as ReadableSpan;
      const request = decoded(encodeSpans([at])) as {
        resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: string }[] }[] }[];
      };
      expect(request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.startTimeUnixNano).toBe(
        (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString(),
      );
    }
  });
});
