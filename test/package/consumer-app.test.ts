// A new consumer app made of the README's quick start, against the packed package: strict type-check (ESM and CJS), then run and POST webhooks.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs against the built package (npm test builds dist/ first); nothing is fetched from a registry:
// the app's node_modules holds the packed tarball plus symlinks to this repository's dev deps.
const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY_ID_PATTERN = /whk_\d{8}_\d{2}/;
const LISTEN_LINE = /^app\.listen\(\d+\);$/m;

/** The first ```ts block under the README's "## Quick start" heading. */
function quickStartSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  const block = section === undefined ? undefined : /^```ts\n([\s\S]*?)\n```$/m.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no ```ts block under "## Quick start"');
  return block;
}

// What the snippet leaves to the reader: a job queue (logs what it got, so the test sees onEvent
// ran with the decrypted event) and a port (loopback, chosen by the OS, printed when ready).
const PREAMBLE = `const jobs = {
  async enqueue(eventType: string, data: unknown): Promise<void> {
    console.log(\`enqueued \${eventType} \${typeof data}\`);
  },
};
`;
const LISTEN = `const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(\`listening on \${typeof address === 'object' && address !== null ? address.port : ''}\`);
});`;

// A strict app as \`tsc --init\` (TypeScript 5.9) sets one up, emitting JavaScript to dist/. CommonJS
// leaves out verbatimModuleSyntax, which rejects the snippet's import syntax in a CommonJS module;
// the compiler turns the imports into require() calls.
function tsconfig(type: 'module' | 'commonjs'): object {
  return {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      isolatedModules: true,
      ...(type === 'module' ? { verbatimModuleSyntax: true } : {}),
      skipLibCheck: true,
      rootDir: '.',
      outDir: 'dist',
    },
    files: ['app.ts'],
  };
}

let tmp = '';
let appDir = '';
let testing: typeof import('kompliant-webhooks/testing');
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  tmp = mkdtempSync(join(tmpdir(), 'kw-consumer-'));
  execFileSync('npm', ['pack', '--pack-destination', tmp, '--ignore-scripts', '--silent'], { cwd: root, stdio: 'pipe' });
  const tarball = readdirSync(tmp).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack wrote no tarball');
  appDir = join(tmp, 'app');
  const modules = join(appDir, 'node_modules');
  mkdirSync(join(modules, 'kompliant-webhooks'), { recursive: true });
  mkdirSync(join(modules, '@types'));
  execFileSync('tar', ['-xzf', join(tmp, tarball), '-C', join(modules, 'kompliant-webhooks'), '--strip-components=1']);
  for (const name of ['express', 'typescript', '@types/express', '@types/node']) {
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  testing = (await import(pathToFileURL(join(modules, 'kompliant-webhooks/dist/testing.js')).href)) as typeof testing;
}, 60_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

/** Writes the app into <app>/<type>/ (its own package.json), type-checks and emits it; the compiler's output. */
function buildApp(type: 'module' | 'commonjs'): { status: number; output: string; dir: string } {
  const snippet = quickStartSnippet();
  if (!LISTEN_LINE.test(snippet)) throw new Error('the quick start no longer ends in `app.listen(PORT);`: update this test');
  const dir = join(appDir, type);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(type), null, 2));
  writeFileSync(join(dir, 'app.ts'), PREAMBLE + snippet.replace(LISTEN_LINE, LISTEN) + '\n');
  const tsc = join(appDir, 'node_modules/typescript/bin/tsc');
  try {
    const output = execFileSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, output, dir };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: failed.stdout + failed.stderr, dir };
  }
}

/** Starts the compiled app with the secret in its environment; resolves with its port once it prints it. */
function startApp(file: string, env: Record<string, string>): Promise<{ port: number; output: () => string; stop: () => void }> {
  const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app printed no port within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const port = /listening on (\d+)/.exec(output)?.[1];
      if (port !== undefined) {
        clearTimeout(timer);
        resolve({ port: Number(port), output: () => output, stop: () => child.kill() });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the app exited (${code}) before listening:\n${output}`));
    });
  });
}

async function post(port: number, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}/webhooks/kompliant`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('a consumer app built from the README quick start, against the packed package', () => {
  it.each([
    { type: 'module', emitted: /from 'kompliant-webhooks'/ },
    { type: 'commonjs', emitted: /require\("kompliant-webhooks"\)/ },
  ] as const)('type-checks in strict mode, runs and answers webhooks ($type)', { timeout: 60_000 }, async ({ type, emitted }) => {
    const built = buildApp(type);
    expect(built.output).toBe('');
    expect(built.status).toBe(0);
    const js = join(built.dir, 'dist/app.js');
    expect(readFileSync(js, 'utf8')).toMatch(emitted);

    const keyId = KEY_ID_PATTERN.exec(quickStartSnippet())?.[0];
    if (keyId === undefined) throw new Error('the quick start names no key id');
    const secret = testing.generateSharedSecret();
    const app = await startApp(js, { KOMPLIANT_WEBHOOK_SECRET: secret });

    const envelope = testing.createTestWebhook({ secret, keyId, eventType: 'WORKFLOW_COMPLETED' });
    expect(await post(app.port, envelope)).toEqual({ status: 200, body: { received: true } });
    expect(app.output()).toContain('enqueued WORKFLOW_COMPLETED object');

    const forged = testing.createTestWebhook({ secret: testing.generateSharedSecret(), keyId });
    const answer = await post(app.port, forged);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: 'DECRYPTION_FAILED' } });
    expect(app.output().match(/enqueued/g)).toHaveLength(1);
    app.stop();
  });
});
