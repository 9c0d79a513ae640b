import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { NOT_IMPLEMENTED_KINDS } from '../operator/src/resources/check-object.ts';
import { KINDS } from '../operator/src/resources/kinds.ts';
import { unknownFields } from '../operator/src/resources/unknown-fields.ts';
import { controlPlaneBinaries } from './cluster/control-plane.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'cli/src/main.ts');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function validate(args: string[], stdin?: string): Promise<Outcome> {
  if (stdin !== undefined) {
    const child = spawn(process.execPath, [cli, 'validate', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.stdin.end(stdin);
    const code = await new Promise<number>((resolve) => child.once('close', resolve));
    return { code, stdout, stderr };
  }
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'validate', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Outcome;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The quickstart sample with one file's text edited (or a file added): the mistakes a user makes. */
async function quickstartWith(edits: Record<string, (text: string) => string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-'));
  dirs.push(dir);
  await cp(join(root, 'samples/quickstart'), dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const text = await readFile(join(dir, file), 'utf8').catch(() => '');
    await writeFile(join(dir, file), edit(text));
  }
  return dir;
}
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('sluice validate: a directory it calls valid is one the gateway serves as written', () => {
  it.each([
    [
      'a misspelt field (backendRef for backendRefs)',
      { 'routes.yaml': (t: string) => t.replace('backendRefs:', 'backendRef:') },
      /^error: routes\.yaml: HTTPRoute default\/demo: \/spec\/rules\/0\/backendRef: unknown field/m,
    ],
    [
      'a misspelt metadata field',
      {
        'routes.yaml': (t: string) =>
          t.replace('  namespace: default\nspec:\n  parentRefs', '  namspace: default\nspec:\n  parentRefs'),
      },
      /^error: routes\.yaml: HTTPRoute [^:]+: \/metadata\/namspace: unknown field/m,
    ],
    [
      'a Service that does not exist',
      { 'routes.yaml': (t: string) => t.replace('        - name: demo\n', '        - name: demo-typo\n') },
      /^error: HTTPRoute default\/demo: parent quickstart: ResolvedRefs=False BackendNotFound: .*demo-typo/m,
    ],
    [
      'an AIBackend that does not exist',
      { 'ai.yaml': (t: string) => t.replace('          name: chat', '          name: chat-typo') },
      /^error: HTTPRoute default\/ai: parent quickstart: ResolvedRefs=False BackendNotFound: .*chat-typo/m,
    ],
    [
      'a parentRef naming no Gateway',
      { 'ai.yaml': (t: string) => t.replace('    - name: quickstart', '    - name: quickstrat') },
      /^error: HTTPRoute default\/ai: attached to no Gateway: .*Gateway default\/quickstrat/m,
    ],
    [
      'a parentRef naming a listener that does not exist',
      {
        'ai.yaml': (t: string) =>
          t.replace('    - name: quickstart', '    - name: quickstart\n      sectionName: https'),
      },
      /^error: HTTPRoute default\/ai: parent quickstart: Accepted=False NoMatchingParent: /m,
    ],
  ])('exits 1 on %s, naming object and reason', async (_what, edits, expected) => {
    const r = await validate(['-f', await quickstartWith(edits)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).toMatch(/^invalid: /m);
  });

  it('lists the allowed values of a bad enumeration and what was written', async () => {
    const dir = await quickstartWith({ 'routes.yaml': (t) => t.replace('type: PathPrefix', 'type: Prefix') });
    const r = await validate(['-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'routes.yaml: HTTPRoute default/demo: /spec/rules/0/matches/0/path/type: must be one of Exact, PathPrefix, RegularExpression (got "Prefix")',
    );
  });

  it('shows the line of a YAML syntax error', async () => {
    const dir = await quickstartWith({
      'gateway.yaml': (t) => t.replace('  name: quickstart', '  name: quickstart\n bad: indent'),
    });
    const r = await validate(['-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /gateway\.yaml: invalid YAML at line \d+, column \d+: .+\n {4} bad: indent\n {4}\^/,
    );
  });

  it('skips a kind Sluice does not read with a notice, and still validates the rest', async () => {
    const dir = await quickstartWith({
      'app.yaml': () =>
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: default}\nspec: {}\n',
    });
    const r = await validate(['-f', dir]);
    expect(r).toMatchObject({ code: 0, stdout: 'valid: 8 objects (1 skipped), every object accepted\n' });
    expect(r.stderr).toBe(
      'notice: app.yaml: Deployment app: skipped: Sluice does not read Deployment (apps/v1)\n',
    );
  });

  it('still refuses a misspelt kind of the Gateway API group', async () => {
    const r = await validate(
      ['-f', '-'],
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoutes\nmetadata: {name: r}\nspec: {}\n',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/<stdin>: HTTPRoutes r: \/kind: unknown kind; expected one of .*HTTPRoute/);
  });

  it('takes one file, and standard input as -', async () => {
    const file = await validate(['-f', 'samples/quickstart/gateway.yaml']);
    expect(file).toMatchObject({ code: 0, stdout: 'valid: 2 objects, every object accepted\n' });
    const stdin = await validate(
      ['-f', '-'],
      await readFile(join(root, 'samples/quickstart/gateway.yaml'), 'utf8'),
    );
    expect(stdin).toMatchObject({ code: 0, stdout: 'valid: 2 objects, every object accepted\n' });
    const missing = await validate(['-f', 'samples/no-such-dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read samples/no-such-dir: no such file or directory');
  });

  it('--warn-only reports the same problems as warnings and exits 0; schema errors still fail', async () => {
    const dir = await quickstartWith({
      'routes.yaml': (t) => t.replace('backendRefs:', 'backendRef:'),
      'ai.yaml': (t) => t.replace('    - name: quickstart', '    - name: quickstrat'),
    });
    const r = await validate(['--warn-only', '-f', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: routes\.yaml: HTTPRoute default\/demo: \/spec\/rules\/0\/backendRef: unknown field/m,
    );
    expect(r.stderr).toMatch(/^warning: HTTPRoute default\/ai: attached to no Gateway/m);
    expect(r.stdout).toBe('valid with 2 warnings: 7 objects\n');
    const broken = await quickstartWith({ 'routes.yaml': (t) => t.replace('port: 80', 'port: 0') });
    expect((await validate(['--warn-only', '-f', broken])).code).toBe(1);
  });

  it('accepts every sample as it ships', async () => {
    for (const sample of [
      'quickstart',
      'budgets',
      'prompt-guard',
      'failover',
      'model-routing',
      'http-routes',
    ])
      expect(await validate(['-f', `samples/${sample}`]), sample).toMatchObject({ code: 0, stderr: '' });
  });
});

/**
 * An object with every field an upstream CRD schema declares (one item per list, one key per map), so
 * strict checking is tested against the real Gateway API, not against Sluice's idea of it.
 */
function everyField(schema: Record<string, unknown>): unknown {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties) return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, everyField(v)]));
  if (schema.type === 'array' && schema.items) return [everyField(schema.items as Record<string, unknown>)];
  if (typeof schema.additionalProperties === 'object')
    return { key: everyField(schema.additionalProperties as Record<string, unknown>) };
  return 'x';
}

describe('strict checking knows every field of the Gateway API v1.6.3 CRDs', () => {
  const channels = {
    standard: join(controlPlaneBinaries(), 'gateway-api-crds'),
    experimental: join(
      execFileSync('bash', [join(root, 'conformance/build.sh')], { encoding: 'utf8' }).trim(),
      'gateway-api-crds-experimental',
    ),
  };
  it.each(Object.entries(channels))('%s channel', async (_channel, dir) => {
    const kinds: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.startsWith('gateway.networking.k8s.io_'))) {
      for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
        const crd = doc.toJS() as {
          kind?: string;
          spec?: {
            names: { kind: string };
            versions: { storage: boolean; schema: { openAPIV3Schema: Record<string, unknown> } }[];
          };
        };
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        const kind = crd.spec.names.kind;
        kinds.push(kind);
        if (NOT_IMPLEMENTED_KINDS.has(kind)) continue;
        const schema = crd.spec.versions.find((v) => v.storage)!.schema.openAPIV3Schema;
        const example = everyField(schema) as Record<string, unknown>;
        expect(unknownFields(KINDS[kind]!.schema, example), kind).toEqual([]);
      }
    }
    // Every kind of the release is read or deliberately skipped.
    expect(kinds.filter((k) => !KINDS[k] && !NOT_IMPLEMENTED_KINDS.has(k))).toEqual([]);
    expect(kinds).toContain('HTTPRoute');
  });
});
