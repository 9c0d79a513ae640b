import { randomUUID } from 'node:crypto';

/** One part of a multipart form: a text field, or a file with its name and type. */
export type FormPart =
  | { name: string; value: string }
  | { name: string; filename: string; type: string; data: Buffer };

/**
 * A multipart request (audio to transcribe, an image to edit) read with the runtime's own form
 * parser (undici's, behind `Response.formData`): its parts, and its text fields as the body the
 * pipeline reads (model, prompt…; the first of a repeated name). Undefined when it is no valid form.
 */
export async function parseForm(
  raw: Buffer,
  contentType: string,
): Promise<{ parts: FormPart[]; fields: Record<string, unknown> } | undefined> {
  let data: FormData;
  try {
    data = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const parts: FormPart[] = [];
  const fields: Record<string, unknown> = {};
  for (const [name, value] of data) {
    if (typeof value === 'string') {
      parts.push({ name, value });
      if (!(name in fields)) fields[name] = value;
    } else
      parts.push({
        name,
        filename: value.name,
        type: value.type,
        data: Buffer.from(await value.arrayBuffer()),
      });
  }
  return { parts, fields };
}

/**
 * The form as it goes upstream: each text field as the pipeline left it in `fields` (the target's
 * model, a prompt a guard masked), files as they came. Written here rather than re-read from the
 * client's bytes, so that what is forwarded is what was checked.
 */
export function encodeForm(
  parts: readonly FormPart[],
  fields: Record<string, unknown>,
): { body: Buffer; contentType: string } {
  const boundary = `sluice-${randomUUID()}`;
  const chunks: Buffer[] = [];
  const written = new Set<string>();
  for (const part of parts) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(part.name)}"`;
    if ('data' in part) {
      chunks.push(
        Buffer.from(
          `${head}; filename="${quoted(part.filename)}"\r\nContent-Type: ${part.type || 'application/octet-stream'}\r\n\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      );
      continue;
    }
    const field = fields[part.name];
    const value = !written.has(part.name) && typeof field === 'string' ? field : part.value;
    written.add(part.name);
    chunks.push(Buffer.from(`${head}\r\n\r\n${value}\r\n`));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A name in a Content-Disposition header, escaped as browsers escape it (WHATWG multipart). */
function quoted(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Bytes of a form's text fields: what a budget estimates a form request by (not its files). */
export function textBytes(fields: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(fields)) if (typeof v === 'string') n += Buffer.byteLength(v);
  return n;
}
