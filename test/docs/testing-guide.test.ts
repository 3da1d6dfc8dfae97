// Runs the first code block of docs/testing.md as a real vitest suite, so the guide's example cannot rot.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const guide = readFileSync(new URL('../../docs/testing.md', import.meta.url), 'utf8');
const block = /^```ts\n([\s\S]*?)\n```$/m.exec(guide)?.[1];
if (block === undefined) throw new Error('docs/testing.md has no ```ts block');

// Written inside the repository (git-ignored), so the guide's package imports resolve as they do
// for a reader. The guide imports only packages, never a file of this repository.
if (/from '\.\.?\//.test(block)) throw new Error('docs/testing.md imports a relative path: readers do not have it');
const dir = new URL('../../.doc-snippets/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL('testing-guide.ts', dir);
writeFileSync(file, block);

// The block's describe/it calls register in this file's suite.
await import(file.href);
