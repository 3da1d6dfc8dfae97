// The docs and examples ship in the package: every relative link of the shipped Markdown resolves inside it, snippets import only packages, and every example says how to run it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The files `npm pack` would put in the tarball (paths relative to the package root). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  return report.files.map((f) => f.path);
}

/** Lines outside fenced code blocks, and the fenced blocks themselves with their info string. */
function split(text: string): { prose: string[]; blocks: { info: string; body: string }[] } {
  const prose: string[] = [];
  const blocks: { info: string; body: string }[] = [];
  let fence: { ticks: string; info: string; body: string[] } | undefined;
  for (const line of text.split('\n')) {
    const open = /^(`{3,})\s*(\S*)/.exec(line);
    if (fence === undefined && open) fence = { ticks: open[1] as string, info: open[2] ?? '', body: [] };
    else if (fence !== undefined && line.trim().startsWith(fence.ticks) && line.trim().replaceAll('`', '') === '') {
      blocks.push({ info: fence.info, body: fence.body.join('\n') });
      fence = undefined;
    } else if (fence !== undefined) fence.body.push(line);
    else prose.push(line);
  }
  return { prose, blocks };
}

const files = packedFiles();
const shipped = new Set(files);
const markdown = files.filter((f) => f.endsWith('.md'));

describe('the docs in the published package', () => {
  it('ships the README, the changelog, every docs page and every example', () => {
    for (const f of ['README.md', 'CHANGELOG.md', 'docs/README.md', 'examples/express-app.ts']) expect(shipped).toContain(f);
  });

  it('resolves every relative link of the shipped Markdown to a shipped file or folder', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      for (const line of split(readFileSync(`${root}${file}`, 'utf8')).prose) {
        for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = (match[1] as string).split('#')[0] as string;
          if (target === '' || /^[a-z]+:/i.test(target)) continue;
          const resolved = posix.normalize(posix.join(posix.dirname(file), target)).replace(/\/$/, '');
          if (!shipped.has(resolved) && !files.some((f) => f.startsWith(`${resolved}/`))) broken.push(`${file}: ${match[1]}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('has no code block that imports a relative path (readers have the package, not this repository)', () => {
    const relative: string[] = [];
    for (const file of markdown) {
      for (const block of split(readFileSync(`${root}${file}`, 'utf8')).blocks) {
        if (!/^(ts|typescript|js|javascript|mjs|cjs)$/.test(block.info)) continue;
        for (const match of block.body.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g)) relative.push(`${file}: ${match[1]}`);
      }
    }
    expect(relative).toEqual([]);
  });

  it('says at the top of every TypeScript example how to run it', () => {
    const examples = files.filter((f) => f.startsWith('examples/') && f.endsWith('.ts'));
    expect(examples.length).toBeGreaterThan(5);
    const silent = examples.filter((f) => !/npx (tsx|vitest)/.test(readFileSync(`${root}${f}`, 'utf8').split('\n').slice(0, 10).join('\n')));
    expect(silent).toEqual([]);
  });
});
