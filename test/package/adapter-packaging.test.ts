import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The built package (npm test builds first), loaded by name through package.json "exports".
const require = createRequire(import.meta.url);
const DIST = new URL('../../dist/', import.meta.url);

describe('adapter subpath exports (built package)', () => {
  it.each([
    ['kompliant-webhooks/fetch', 'createFetchHandler'],
    ['kompliant-webhooks/fastify', 'kompliantFastify'],
    ['kompliant-webhooks/fastify', 'kompliantPreHandler'],
    ['kompliant-webhooks/lambda', 'createLambdaHandler'],
  ])('%s exports %s as ESM and CJS', async (specifier, name) => {
    const esm = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    const cjs = require(specifier) as Record<string, unknown>;
    expect(typeof esm[name]).toBe('function');
    expect(typeof cjs[name]).toBe('function');
  });

  it('ships type declarations for both module systems', () => {
    const files = readdirSync(DIST);
    for (const entry of ['fetch', 'fastify', 'lambda']) {
      expect(files).toContain(`${entry}.d.ts`);
      expect(files).toContain(`${entry}.d.cts`);
    }
  });

  it('never loads fastify at run time, not even from the fastify entry', () => {
    for (const file of readdirSync(DIST).filter((f) => /\.(c?js)$/.test(f))) {
      const code = readFileSync(new URL(file, DIST), 'utf8');
      expect(code, file).not.toMatch(/(?:from|require\()\s*["']fastify["']/);
    }
  });
});
