// Runs the first code block of docs/testing-handlers.md as a real vitest suite, so the guide's example cannot rot.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const guide = readFileSync(new URL('../../docs/testing-handlers.md', import.meta.url), 'utf8');
const block = /^```ts\n([\s\S]*?)\n```$/m.exec(guide)?.[1];
if (block === undefined) throw new Error('docs/testing-handlers.md has no ```ts block');

// Written beside the repository root's other folders (git-ignored), so the guide's relative
// import of ../examples/express-app.js and its package imports resolve as they do for a reader.
const dir = new URL('../../.doc-snippets/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL('testing-handlers-guide.ts', dir);
writeFileSync(file, block);

// The block's describe/it calls register in this file's suite.
await import(file.href);
