import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs against the built package (npm test builds first): what users install, imported by name.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
};

function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
}

describe('the published package', () => {
  it('has no runtime dependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  // One process per subpath: give a loaded machine time (the default 5 s is a subpath or two).
  it.each(['module', 'commonjs'] as const)('imports every export by name (%s)', { timeout: 60_000 }, (type) => {
    const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json');
    for (const subpath of subpaths) {
      const name = `kompliant-webhooks${subpath.slice(1)}`;
      const code =
        type === 'module'
          ? `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`
          : `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length)`;
      expect(Number(run(code, type))).toBeGreaterThan(0);
    }
  });

  it('ships no file that nothing loads (every dist file is reached from exports, typesVersions or bin)', () => {
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value);
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
    };
    collect([pkg.exports, pkg.typesVersions, pkg.bin]);
    const pending = targets.filter((t) => t.startsWith('./dist/')).map((t) => t.slice('./dist/'.length));
    const reached = new Set<string>();
    // Every file under dist/, as a path relative to it (the CLI's lazily loaded chunks are in dist/cli-chunks/).
    const shipped = readdirSync(`${root}dist`, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => posix.relative(`${root}dist`.split(sep).join('/'), posix.join(entry.parentPath.split(sep).join('/'), entry.name)));
    while (pending.length > 0) {
      const file = pending.pop()!;
      // A chunk's types are imported as './x.js' / './x.cjs' from declaration files.
      const name = shipped.includes(file) ? file : file.replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts');
      if (reached.has(name)) continue;
      reached.add(name);
      const text = readFileSync(`${root}dist/${name}`, 'utf8');
      for (const match of text.matchAll(/(?:from\s*|require\(|import\()["']\.\/([^"']+)["']/g)) pending.push(posix.join(posix.dirname(name), match[1]!));
    }
    expect(shipped.filter((file) => !reached.has(file))).toEqual([]);
    expect(shipped).not.toContain('cli.cjs');
  });

  it('the main entry loads nothing but node: built-ins', () => {
    const code = `
      const before = new Set(Object.keys(require.cache));
      require('kompliant-webhooks');
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'));
      console.log(JSON.stringify(loaded));`;
    expect(JSON.parse(run(code, 'commonjs'))).toEqual([]);
  });

  it('a WebhookError from the CJS build is recognised by code across subpaths', () => {
    const code = `
      const { isWebhookError, openEnvelope } = require('kompliant-webhooks');
      const { createTestWebhook, generateSharedSecret } = require('kompliant-webhooks/testing');
      const env = createTestWebhook({ secret: generateSharedSecret() });
      try { openEnvelope(env, generateSharedSecret()); } catch (e) { console.log(isWebhookError(e) && e.code); }`;
    expect(run(code, 'commonjs')).toBe('DECRYPTION_FAILED');
  });
});
