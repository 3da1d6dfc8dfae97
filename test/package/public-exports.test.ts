// Pins every name (values and types) that each published entry point exports, read with the TypeScript checker.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pinned = JSON.parse(readFileSync(`${root}test/fixtures/public-exports.json`, 'utf8')) as Record<string, string[]>;

/** The names each entry file exports, sorted, from the source the build compiles. */
function exportsOf(entries: string[]): Record<string, string[]> {
  const files = entries.map((entry) => `${root}src/${entry}.ts`);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const result: Record<string, string[]> = {};
  entries.forEach((entry, i) => {
    const source = program.getSourceFile(files[i]!);
    const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    result[entry] = symbol === undefined ? [] : checker.getExportsOfModule(symbol).map((s) => s.getName()).toSorted();
  });
  return result;
}

describe('public exports', () => {
  it('the root exports at most 22 values (the rest are types; low-level parts live in subpaths)', async () => {
    const values = Object.keys(await import('../../src/index.js'));
    expect(values.length).toBeLessThanOrEqual(22);
    expect(values.filter((name) => name.startsWith('DEFAULT_'))).toEqual([]);
  });

  it('every entry point exports exactly the pinned names (test/fixtures/public-exports.json)', { timeout: 60_000 }, () => {
    expect(exportsOf(Object.keys(pinned))).toEqual(pinned);
  });
});
