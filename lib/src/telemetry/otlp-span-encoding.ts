import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Spans → an OTLP `ExportTraceServiceRequest` in protobuf, written straight into one buffer.
 *
 * Why not the OTel library's serializer: it first builds a JavaScript object per span, attribute
 * and value, then encodes that (protobufjs) or stringifies it (JSON). At 100% sampling that was
 * the largest single cost of tracing a chat request (two fifths of it, measured with --cpu-prof);
 * this writes the same message without the intermediate objects. The wire format is checked against
 * the library's own encoding in test/otlp-span-encoding.test.ts (property-based) and against a real
 * collector in the tracing suites.
 *
 * Message and field numbers: opentelemetry/proto/{collector/trace,trace,common,resource}/v1.
 */
export function encodeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  const w = new ProtoWriter(Math.max(1024, spans.length * 600));
  for (const [resource, scopes] of groupByResourceAndScope(spans)) {
    const resourceSpans = w.begin(1); // ExportTraceServiceRequest.resource_spans
    const res = w.begin(1); // ResourceSpans.resource
    writeAttributes(w, 1, resource.attributes); // Resource.attributes
    w.end(res);
    for (const group of scopes) {
      const scopeSpans = w.begin(2); // ResourceSpans.scope_spans
      const scope = w.begin(1); // ScopeSpans.scope
      w.string(1, group[0]!.instrumentationScope.name);
      if (group[0]!.instrumentationScope.version) w.string(2, group[0]!.instrumentationScope.version);
      w.end(scope);
      for (const span of group) writeSpan(w, span);
      if (group[0]!.instrumentationScope.schemaUrl) w.string(3, group[0]!.instrumentationScope.schemaUrl);
      w.end(scopeSpans);
    }
    if (resource.schemaUrl) w.string(3, resource.schemaUrl);
    w.end(resourceSpans);
  }
  return w.finish();
}

/** Span flags: the low byte is the W3C trace flags; bit 8 says bit 9 (parent is remote) is known. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const at = w.begin(2); // ScopeSpans.spans
  const ctx = span.spanContext();
  w.hex(1, ctx.traceId);
  w.hex(2, ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) w.string(3, traceState);
  const parent = span.parentSpanContext;
  if (parent?.spanId) w.hex(4, parent.spanId);
  w.string(5, span.name);
  w.varint(6, span.kind + 1); // the API has no UNSPECIFIED, so its kinds are the proto's minus one
  w.time(7, span.startTime);
  w.time(8, span.endTime);
  writeAttributes(w, 9, span.attributes);
  w.varint(10, span.droppedAttributesCount);
  for (const event of span.events) {
    const e = w.begin(11);
    w.time(1, event.time);
    w.string(2, event.name);
    if (event.attributes) writeAttributes(w, 3, event.attributes);
    w.varint(4, event.droppedAttributesCount ?? 0);
    w.end(e);
  }
  w.varint(12, span.droppedEventsCount);
  for (const link of span.links) {
    const l = w.begin(13);
    w.hex(1, link.context.traceId);
    w.hex(2, link.context.spanId);
    const linkState = link.context.traceState?.serialize();
    if (linkState) w.string(3, linkState);
    if (link.attributes) writeAttributes(w, 4, link.attributes);
    w.varint(5, link.droppedAttributesCount ?? 0);
    w.fixed32(6, flags(link.context.traceFlags, link.context.isRemote));
    w.end(l);
  }
  w.varint(14, span.droppedLinksCount);
  const status = w.begin(15);
  if (span.status.message) w.string(2, span.status.message);
  w.varint(3, span.status.code);
  w.end(status);
  w.fixed32(16, flags(ctx.traceFlags, parent?.isRemote));
  w.end(at);
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  // Own keys only: an attribute named `__proto__` makes an SDK attributes object inherit keys.
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    const kv = w.begin(field);
    w.string(1, key); // KeyValue.key
    writeAnyValue(w, 2, value);
    w.end(kv);
  }
}

/** AnyValue: string 1, bool 2, int64 3, double 4, array 5, kvlist 6, bytes 7 (unset when null). */
function writeAnyValue(w: ProtoWriter, field: number, value: AttributeValue | unknown): void {
  const v = w.begin(field);
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'number') {
    // Integers past 2^53 are not exact as JavaScript numbers: they go as the doubles they are.
    if (Number.isSafeInteger(value)) w.int64(3, value);
    else w.double(4, value);
  } else if (typeof value === 'boolean') w.varint(2, value ? 1 : 0, true);
  else if (value instanceof Uint8Array) w.bytes(7, value);
  else if (Array.isArray(value)) {
    const array = w.begin(5);
    for (const item of value) writeAnyValue(w, 1, item);
    w.end(array);
  } else if (typeof value === 'object' && value !== null) {
    const list = w.begin(6);
    for (const [key, item] of Object.entries(value)) {
      const kv = w.begin(1);
      w.string(1, key);
      writeAnyValue(w, 2, item);
      w.end(kv);
    }
    w.end(list);
  }
  w.end(v);
}

/** Spans grouped as the message nests them: by resource, then by instrumentation scope. */
function groupByResourceAndScope(spans: readonly ReadableSpan[]) {
  const byResource = new Map<ReadableSpan['resource'], Map<string, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) {
      scopes = new Map();
      byResource.set(span.resource, scopes);
    }
    const { name, version, schemaUrl } = span.instrumentationScope;
    const key = `${name}@${version ?? ''}:${schemaUrl ?? ''}`;
    const group = scopes.get(key);
    if (group) group.push(span);
    else scopes.set(key, [span]);
  }
  return [...byResource].map(([resource, scopes]) => [resource, [...scopes.values()]] as const);
}

const TWO_32 = 2 ** 32;
const TWO_23 = 2 ** 23;

/**
 * A protobuf writer over one growing buffer. A nested message's length is not known until it is
 * written, so `begin` reserves one length byte and `end` widens it in place when the message came
 * out longer than 127 bytes (a short move of the bytes just written).
 */
class ProtoWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size);
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  begin(field: number): number {
    this.#tag(field, 2);
    this.#room(1);
    return this.#pos++;
  }

  end(start: number): void {
    const length = this.#pos - start - 1;
    if (length < 0x80) {
      this.#buf[start] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.#room(extra);
    this.#buf.copyWithin(start + 1 + extra, start + 1, this.#pos);
    this.#pos = start;
    this.#raw(length);
    this.#pos += length;
  }

  /** A varint field; proto3 leaves zeros out unless `always` (a oneof member must be present). */
  varint(field: number, value: number, always = false): void {
    if (value === 0 && !always) return;
    this.#tag(field, 0);
    this.#raw(value);
  }

  /** int64: negative values take ten bytes (two's complement, sign-extended). */
  int64(field: number, value: number): void {
    this.#tag(field, 0);
    if (value >= 0) {
      this.#raw(value);
      return;
    }
    let rest = BigInt.asUintN(64, BigInt(value));
    this.#room(10);
    while (rest >= 0x80n) {
      this.#buf[this.#pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#buf[this.#pos++] = Number(rest);
  }

  double(field: number, value: number): void {
    this.#tag(field, 1);
    this.#room(8);
    this.#pos = this.#buf.writeDoubleLE(value, this.#pos);
  }

  fixed32(field: number, value: number): void {
    this.#tag(field, 5);
    this.#room(4);
    this.#pos = this.#buf.writeUInt32LE(value >>> 0, this.#pos);
  }

  /** An HrTime as fixed64 nanoseconds, exact without BigInt: seconds × 10⁹ = (seconds × 5⁹) × 2⁹. */
  time(field: number, [seconds, nanos]: HrTime): void {
    this.#tag(field, 1);
    this.#room(8);
    const m = Math.trunc(seconds) * 1_953_125; // < 2^53 for any time before the year 2106
    let low = (m % TWO_23) * 512 + Math.trunc(nanos);
    const carry = Math.floor(low / TWO_32);
    low -= carry * TWO_32;
    this.#buf.writeUInt32LE(low, this.#pos);
    this.#buf.writeUInt32LE(Math.floor(m / TWO_23) + carry, this.#pos + 4);
    this.#pos += 8;
  }

  string(field: number, value: string): void {
    this.#tag(field, 2);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the length's varint at most 5.
    this.#room(value.length * 3 + 5);
    if (value.length < 0x80 / 3) {
      // Short: write the text after a one-byte length, which it cannot outgrow. ASCII (keys, most
      // values) is copied here, cheaper than a call into C++ for a few bytes.
      const buf = this.#buf;
      const start = this.#pos + 1;
      let i = 0;
      for (; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      const written = i === value.length ? i : i + buf.write(value.slice(i), start + i, 'utf8');
      buf[this.#pos] = written;
      this.#pos = start + written;
      return;
    }
    const length = Buffer.byteLength(value);
    this.#raw(length);
    this.#pos += this.#buf.write(value, this.#pos, 'utf8');
  }

  /** A trace or span id: hex text on the API, raw bytes on the wire. */
  hex(field: number, id: string): void {
    this.#tag(field, 2);
    // Ids are 16 or 8 bytes; a longer one is cut so its length fits the one byte reserved for it.
    const hex = id.length > 64 ? id.slice(0, 64) : id;
    this.#room((hex.length >> 1) + 1);
    // The length is what was written: hex decoding stops at a bad digit, and a length that promised
    // more would corrupt every message after it.
    const written = this.#buf.write(hex, this.#pos + 1, 'hex');
    this.#buf[this.#pos] = written;
    this.#pos += 1 + written;
  }

  bytes(field: number, value: Uint8Array): void {
    this.#tag(field, 2);
    this.#raw(value.length);
    this.#room(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
  }

  #tag(field: number, wireType: number): void {
    this.#raw(field * 8 + wireType);
  }

  /** An unsigned varint (any safe integer). */
  #raw(value: number): void {
    this.#room(10);
    if (value < 0x80) {
      this.#buf[this.#pos++] = value;
      return;
    }
    let rest = value;
    while (rest >= 0x80) {
      this.#buf[this.#pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#buf[this.#pos++] = rest;
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}
