import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = (code: string, type: 'commonjs' | 'module') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();

// The built package (npm test builds first): what users load.
describe('the AWS SDK stays behind kompliant-webhooks/aws', () => {
  it('require("kompliant-webhooks") loads no @aws-sdk module; require("kompliant-webhooks/aws") does', () => {
    const out = node(
      `require('kompliant-webhooks');
       const before = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk')).length;
       const aws = require('kompliant-webhooks/aws');
       const after = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk')).length;
       console.log(JSON.stringify([before, after > 0, typeof aws.awsSecretsManagerKeyStore]));`,
      'commonjs',
    );
    expect(JSON.parse(out)).toEqual([0, true, 'function']);
  });

  it('the ESM build of "." imports no @aws-sdk module (followed through its chunks); the ESM subpath exports the store', () => {
    const out = node(
      `import { readFileSync } from 'node:fs';
       const main = await import('kompliant-webhooks');
       const aws = await import('kompliant-webhooks/aws');
       const seen = new Set(); const stack = ['dist/index.js']; let sdk = false;
       while (stack.length) { const file = stack.pop(); if (seen.has(file)) continue; seen.add(file);
         const text = readFileSync(file, 'utf8');
         for (const m of text.matchAll(/from\\s*['"]([^'"]+)['"]|import\\(['"]([^'"]+)['"]\\)/g)) {
           const spec = m[1] ?? m[2]; if (spec.startsWith('@aws-sdk')) sdk = true;
           if (spec.startsWith('./')) stack.push('dist/' + spec.slice(2)); } }
       console.log(JSON.stringify([typeof main.cachedKeyStore, typeof aws.awsSecretsManagerKeyStore, sdk, seen.size > 0]));`,
      'module',
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', false, true]);
  });
});
