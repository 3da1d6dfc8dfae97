/**
 * Type-checks every TypeScript code block of README.md and docs/**\/*.md, and checks the docs'
 * relative links and the repository files they name in code spans. Run: `npm run docs:check`.
 *
 * Each ```ts / ```typescript block becomes its own module in .doc-snippets/ (git-ignored, inside
 * the repository so `express`, `vitest`... resolve from node_modules), compiled with the
 * repository's tsconfig.json (strict; `kompliant-webhooks` and `kompliant-webhooks/*` map to the
 * entry files in src/). Conventions, documented in docs/contributing/README.md:
 * - names that belong to the reader's application (`app`, `keyStore`, `db`, `jobs`, ...) are
 *   declared in scripts/doc-snippet-globals.d.ts;
 * - `<!-- snippet-prelude: CODE -->` right before a fence prepends CODE to that block;
 * - `<!-- snippet-skip: REASON -->` right before a fence leaves that block out;
 * - KNOWN_FAILURES below lists blocks that fail because of a known defect in the library's types:
 *   they are reported but do not fail the check, and an entry whose block compiles fails it.
 * A failure is reported as FILE:LINE (the opening fence) with the compiler's message.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Blocks that fail because of a library type defect, by file and a line of the block. */
const KNOWN_FAILURES: readonly { file: string; contains: string; reason: string }[] = [];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, '.doc-snippets');

interface Snippet {
  file: string; // relative to root, with forward slashes
  line: number; // 1-based line of the opening fence
  code: string;
  prelude: string[];
  module: string; // absolute path of the extracted module
}

function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  if (existsSync(path.join(root, 'docs'))) walk('docs');
  return files.toSorted();
}

/** The fenced blocks of a Markdown file: info string, first line, body, and the comments before. */
function fences(text: string): { info: string; line: number; body: string; before: string[] }[] {
  const lines = text.split('\n');
  const found: { info: string; line: number; body: string; before: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([^`\s]*)/.exec(lines[i] ?? '');
    if (open === null) continue;
    const ticks = open[1] as string;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^${ticks}\`*\\s*$`).test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    const before: string[] = [];
    for (let j = start - 1; j >= 0 && /^<!--.*-->\s*$/.test(lines[j] ?? ''); j--) before.unshift(lines[j] ?? '');
    found.push({ info: open[2] ?? '', line: start + 1, body: body.join('\n'), before });
  }
  return found;
}

function extract(files: string[]): { snippets: Snippet[]; skipped: string[] } {
  const snippets: Snippet[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    for (const block of fences(readFileSync(path.join(root, file), 'utf8'))) {
      if (block.info !== 'ts' && block.info !== 'typescript') continue;
      const skip = block.before.find((c) => c.startsWith('<!-- snippet-skip:'));
      if (skip !== undefined) {
        skipped.push(`${file}:${block.line}`);
        continue;
      }
      const prelude = block.before
        .map((c) => /^<!-- snippet-prelude:(.*)-->\s*$/.exec(c)?.[1]?.trim())
        .filter((c): c is string => c !== undefined);
      const name = `${file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.ts`;
      snippets.push({ file, line: block.line, code: block.body, prelude, module: path.join(outDir, name) });
    }
  }
  return { snippets, skipped };
}

/** The lines of a Markdown file outside fenced code blocks (a fence closes with at least as many backticks). */
function proseLines(text: string): { line: string; index: number }[] {
  const prose: { line: string; index: number }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const ticks = /^(`{3,})/.exec(line)?.[1];
    if (fence === undefined && ticks !== undefined) fence = ticks;
    else if (fence !== undefined && ticks !== undefined && ticks.length >= fence.length && line.trim() === ticks) fence = undefined;
    else if (fence === undefined) prose.push({ line, index });
  });
  return prose;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(text: string): Set<string> {
  const set = new Set<string>();
  for (const { line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) set.add((heading[1] as string).trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return set;
}

function checkLinks(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const { line, index } of proseLines(text)) {
      // A repository file named in a code span (`examples/demo.ts`) must exist too.
      for (const match of line.matchAll(/`((?:src|test|examples|scripts)\/[\w./-]+\.\w+)`/g)) {
        if (!existsSync(path.join(root, match[1] as string))) problems.push(`${file}:${index + 1}: names ${match[1]}: no such file`);
      }
      for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] as string;
        if (/^[a-z]+:/i.test(target)) continue;
        const [pathPart, anchor] = target.split('#') as [string, string | undefined];
        const resolved = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
        const where = `${file}:${index + 1}: link ${target}`;
        if (!existsSync(path.join(root, resolved))) problems.push(`${where}: no such file`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(readFileSync(path.join(root, resolved), 'utf8')).has(anchor)) {
          problems.push(`${where}: no heading #${anchor} in ${resolved}`);
        }
      }
    }
  }
  return problems;
}

function typeCheck(snippets: Snippet[]): Map<Snippet, string[]> {
  mkdirSync(outDir, { recursive: true });
  // Only this script's own files: test/docs/ runs a guide's block from the same folder.
  for (const name of readdirSync(outDir)) if (/_L\d+\.ts$/.test(name)) rmSync(path.join(outDir, name));
  for (const s of snippets) writeFileSync(s.module, [...s.prelude, s.code, 'export {};', ''].join('\n'));
  const tsconfig = path.join(outDir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify(
      { extends: '../tsconfig.json', include: [], files: [...snippets.map((s) => path.basename(s.module)), '../scripts/doc-snippet-globals.d.ts'] },
      null,
      2,
    ));
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error('cannot read the snippets tsconfig');
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
  const byModule = new Map(snippets.map((s) => [path.normalize(s.module), s]));
  const errors = new Map<Snippet, string[]>();
  const other: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
    const snippet = d.file === undefined ? undefined : byModule.get(path.normalize(d.file.fileName));
    if (snippet === undefined || d.file === undefined || d.start === undefined) {
      const where = d.file === undefined ? '' : `${path.relative(root, d.file.fileName)}: `;
      other.push(`${where}TS${d.code}: ${message}`);
      continue;
    }
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const mdLine = snippet.line + 1 + line - snippet.prelude.length;
    const list = errors.get(snippet) ?? [];
    list.push(`${snippet.file}:${mdLine}:${character + 1} TS${d.code}: ${message}`);
    errors.set(snippet, list);
  }
  if (other.length > 0) throw new Error(`diagnostics outside the snippets:\n${other.join('\n')}`);
  return errors;
}

const files = markdownFiles();
const { snippets, skipped } = extract(files);
const errors = typeCheck(snippets);
const failures: string[] = [];
const known: string[] = [];
for (const entry of KNOWN_FAILURES) {
  const snippet = snippets.find((s) => s.file === entry.file && s.code.includes(entry.contains));
  if (snippet === undefined) failures.push(`KNOWN_FAILURES entry not found: ${entry.file} containing ${JSON.stringify(entry.contains)}`);
  else if (!errors.has(snippet)) failures.push(`${snippet.file}:${snippet.line}: compiles now; remove it from KNOWN_FAILURES (${entry.reason})`);
  else {
    known.push(`${snippet.file}:${snippet.line}: known failure: ${entry.reason}\n    ${(errors.get(snippet) ?? []).join('\n    ')}`);
    errors.delete(snippet);
  }
}
for (const [snippet, list] of errors) failures.push(`${snippet.file}:${snippet.line}: this block does not type-check\n    ${list.join('\n    ')}`);
const linkProblems = checkLinks(files);
failures.push(...linkProblems);

for (const line of known) console.log(line);
for (const line of failures) console.error(line);
console.log(
  `docs:check: ${snippets.length} TypeScript blocks in ${files.length} Markdown files: ${snippets.length - errors.size - known.length} compile, ` +
    `${known.length} known failures, ${errors.size} failing, ${skipped.length} skipped; ${linkProblems.length} broken links`,
);
if (failures.length > 0) process.exitCode = 1;
