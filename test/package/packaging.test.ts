import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs against the built package (npm test builds first): what users install, imported by name.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, unknown>;
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
