// Type-checks consumer code (test/types/fixtures) against the built package, as an app in strict mode would.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => `${root}test/types/fixtures/${name}.ts`;

/** The diagnostics of compiling `files` together with strict settings plus `options`, as readable lines. */
function diagnostics(files: string[], options: ts.CompilerOptions = {}): string[] {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
    ...options,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? '' : `${d.file.fileName.slice(root.length)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} `;
    return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('consumer types (against the built package)', () => {
  // One program for both (each compile loads the package's and Express's types, ~10 s on a busy machine).
  it('declaration merging types the documented event names; onEvent/onError see the Express request', { timeout: 90_000 }, () => {
    // event-data-map: KompliantEventDataMap merges DOCUMENT_UPLOADED and WORKFLOW_COMPLETED (TS2717 when the library declared them).
    // express-request: kompliantWebhook<express.Request>, or inferred through app.use / a RequestHandler constant.
    expect(diagnostics([fixture('event-data-map'), fixture('express-request')])).toEqual([]);
  });

  it('KompliantEvent narrows after isKnownEvent; workflow_id is undefined on SUBJECT_RECORD_DATA_UPDATED; router, schemas, assertNever', { timeout: 90_000 }, () => {
    // event-narrowing: every @ts-expect-error there must still be an error, and nothing else may be.
    expect(diagnostics([fixture('event-narrowing')])).toEqual([]);
  });

  it('error.cause is typed for targets below ES2022 (target and lib ES2020)', { timeout: 60_000 }, () => {
    expect(diagnostics([fixture('error-cause')], { target: ts.ScriptTarget.ES2020, lib: ['lib.es2020.d.ts'] })).toEqual([]);
  });
});
