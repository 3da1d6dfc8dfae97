import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package (npm test builds first), loaded by name as users do.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: Record<string, string> };

function cjs(code: string): string {
  return execFileSync(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: root, encoding: 'utf8' }).trim();
}

describe('client, emulator and CLI packaging', () => {
  it('the bin is an executable ESM file with a node shebang', () => {
    const bin = pkg.bin['kompliant-webhooks'];
    expect(bin).toBe('./dist/cli.js');
    const text = readFileSync(`${root}${bin}`, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(`${root}${bin}`).mode & 0o111).not.toBe(0);
  });

  it.each(['kompliant-webhooks/client', 'kompliant-webhooks/emulator'])('%s loads no package from node_modules (no AWS SDK)', (name) => {
    const code = `
      const before = new Set(Object.keys(require.cache));
      const m = require(${JSON.stringify(name)});
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'));
      console.log(JSON.stringify([Object.keys(m).length > 0, loaded]));`;
    expect(JSON.parse(cjs(code))).toEqual([true, []]);
  });

  it('the main entry exposes neither the client nor the emulator', () => {
    const out = cjs(`const m = require('kompliant-webhooks'); console.log(JSON.stringify(['createKompliantClient', 'startEmulator', 'rotateWebhookKey'].filter((k) => k in m)));`);
    expect(JSON.parse(out)).toEqual([]);
  });

  it('a KompliantApiError from the CJS client is recognised by name across copies', () => {
    const out = cjs(`
      const { KompliantApiError, isKompliantApiError } = require('kompliant-webhooks/client');
      const e = new KompliantApiError({ code: 'SYSTEM_RULE_VIOLATION', message: 'x', subCode: 'DAILY_KEY_LIMIT' });
      console.log(JSON.stringify([isKompliantApiError({ ...e, name: e.name, code: e.code }), e.subCode]));`);
    expect(JSON.parse(out)).toEqual([true, 'DAILY_LIMIT_EXCEEDED']);
  });
});
