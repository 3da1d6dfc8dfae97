// The source layout's rules: folders in ranked layers importing only downwards, no import cycle, only published entry points directly in src/, an opening comment in every file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = path.join(root, 'src');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string> };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : name.endsWith('.ts') ? [full] : [];
  });
}

const files = walk(src).map((file) => path.relative(src, file).split(path.sep).join('/'));
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every relative import (type-only ones included) of each source file, as paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(src, file), 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((m) => path.posix.normalize(path.posix.join(path.posix.dirname(file), (m[1] ?? m[2])!)).replace(/\.js$/, '.ts'));
    graph.set(file, targets);
  }
  return graph;
}

/** The cycles found by a depth-first search, each as the list of files around it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

/**
 * The layers of src/, lowest first. A file may import from its own folder or from a folder of a
 * lower layer, never sideways or upwards; the entry points (files directly in src/) sit on top.
 * `wire` holds the format itself (the envelope, AES-GCM, the layouts `detect` tries), so the
 * receiver and the CLI both reach it; `sealing` (the sender's side, for tests, the emulator and
 * the CLI) sits beside the stores, never under the receiver. `events` (the published catalog:
 * schemas, samples, guards) sits on the format, under the sealing that uses its samples. `inbox` (the contract of the durable
 * queue the receiver may hand envelopes to) sits just under the receiver.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['options'],
  ['wire'],
  ['events'],
  ['key-stores', 'idempotency', 'sealing'],
  ['key-api', 'delivery'],
  ['inbox'],
  ['receiver'],
  ['http'],
  ['adapters', 'emulator'],
  ['integrations'],
  ['cli'],
  ['.'],
];

/** The top folder of a source file under src/ (`.` for an entry point). */
function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : '.';
}

function rankOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** Imports between different folders, as `from -> to` folder pairs with the file that makes each. */
function folderImports(graph: Map<string, string[]>): Array<{ from: string; to: string; file: string; target: string }> {
  return [...graph].flatMap(([file, targets]) =>
    targets.map((target) => ({ from: folderOf(file), to: folderOf(target), file, target })).filter(({ from, to }) => from !== to),
  );
}

describe('source layout', () => {
  it('ranks every folder of src/ in a layer', () => {
    expect([...new Set(files.map(folderOf))].filter((folder) => rankOf(folder) < 0)).toEqual([]);
  });

  it('imports only from a lower layer (never sideways or upwards)', () => {
    const upward = folderImports(importGraph())
      .filter(({ from, to }) => rankOf(to) >= rankOf(from))
      .map(({ file, target }) => `${file} -> ${target}`);
    expect(upward).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const edges = new Map<string, string[]>();
    for (const { from, to } of folderImports(importGraph())) edges.set(`${from}/x.ts`, [...(edges.get(`${from}/x.ts`) ?? []), `${to}/x.ts`]);
    expect(findCycles(edges).map((cycle) => cycle.map(folderOf).join(' -> '))).toEqual([]);
  });

  it('the layer check fails on an upward import and the cycle check on a folder cycle', () => {
    const graph = new Map([
      ['wire/a.ts', ['receiver/b.ts']],
      ['receiver/b.ts', ['wire/a.ts']],
    ]);
    expect(folderImports(graph).filter(({ from, to }) => rankOf(to) >= rankOf(from))).toHaveLength(1);
    const edges = new Map([...graph].map(([file, targets]) => [`${folderOf(file)}/x.ts`, targets.map((t) => `${folderOf(t)}/x.ts`)]));
    expect(findCycles(edges)).toHaveLength(1);
  });

  it('every relative import resolves to a source file', () => {
    const missing = [...importGraph()].flatMap(([file, targets]) => targets.filter((t) => !files.includes(t)).map((t) => `${file} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(findCycles(importGraph()).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('holds only the published entry points directly in src/', () => {
    // Each export subpath (`.` is index) and each bin is built from the src/ file of that name.
    const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json').map((p) => (p === '.' ? 'index' : p.slice(2)));
    const bins = Object.values(pkg.bin).map((bin) => path.basename(bin, '.js'));
    const entries = [...subpaths, ...bins].map((name) => `${name}.ts`).toSorted();
    expect(files.filter((file) => !file.includes('/')).toSorted()).toEqual(entries);
  });

  it('opens every source file with a comment saying what it is for', () => {
    const silent = files.filter((file) => !/^(#![^\n]*\n)?\s*(\/\/|\/\*)/.test(readFileSync(path.join(src, file), 'utf8')));
    expect(silent).toEqual([]);
  });
});
