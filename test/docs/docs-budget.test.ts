// The user docs stay readable in an afternoon: an index plus at most 12 pages directly under docs/, 110 kB together, the Performance page at most 10 kB.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const docs = new URL('../../docs/', import.meta.url);
const pages = readdirSync(docs).filter((name) => name.endsWith('.md'));
const size = (name: string): number => statSync(new URL(name, docs)).size;

describe('the user docs', () => {
  it('are an index and at most 12 pages', () => {
    expect(pages).toContain('README.md');
    expect(pages.length).toBeLessThanOrEqual(13);
  });

  it('weigh at most 110 kB together, the Performance page at most 10 kB', () => {
    expect(pages.reduce((total, name) => total + size(name), 0)).toBeLessThanOrEqual(110_000);
    expect(size('performance.md')).toBeLessThanOrEqual(10_000);
  });

  it('link every page from the index', () => {
    const index = readFileSync(new URL('README.md', docs), 'utf8');
    expect(pages.filter((name) => name !== 'README.md' && !index.includes(`](${name}`))).toEqual([]);
  });
});
