// CLI input: reading secrets (never from argv), stdin and JSON files, and the layout option.
import { readFile } from 'node:fs/promises';
import { checkLayoutOption, type DataLayoutName } from '../wire/data-layout.js';
import { isValidSharedSecret } from '../wire/secret.js';
import { UsageError } from './args.js';

/** The default env var holding the webhook shared secret. */
export const DEFAULT_SECRET_ENV = 'KOMPLIANT_WEBHOOK_SECRET';

/** Options every secret-reading command accepts. Secrets never come from argv. */
export const SECRET_OPTIONS = {
  'secret-env': { type: 'string' },
  'secret-file': { type: 'string' },
  'secret-stdin': { type: 'boolean' },
} as const;

/** The help lines for {@link SECRET_OPTIONS}. */
export const SECRET_HELP = `Secret (never taken from the command line):
  --secret-env NAME    env var holding the base64 shared secret (default ${DEFAULT_SECRET_ENV})
  --secret-file PATH   file holding it (first line)
  --secret-stdin       read it from the first line of stdin`;

/** Where the CLI reads stdin from (process.stdin, or a string in tests of the functions). */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

let stdinText: Promise<string> | undefined;

/** All of stdin as UTF-8 (read once). */
export function readStdin(io: CliIo): Promise<string> {
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  })();
  return stdinText;
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Reads the shared secret from env, a file or stdin, and checks it is base64 of 32 bytes. */
export async function readSecret(values: { 'secret-env'?: string; 'secret-file'?: string; 'secret-stdin'?: boolean }, io: CliIo): Promise<string> {
  const sources = [values['secret-file'] !== undefined, values['secret-stdin'] === true, values['secret-env'] !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give at most one of --secret-env, --secret-file, --secret-stdin');
  let secret: string | undefined;
  let from: string;
  if (values['secret-file'] !== undefined) {
    from = 'the secret file';
    secret = (await readTextFile(values['secret-file'], 'secret')).split(/\r?\n/)[0];
  } else if (values['secret-stdin'] === true) {
    from = 'stdin';
    secret = (await readStdin(io)).split(/\r?\n/)[0];
  } else {
    const name = values['secret-env'] ?? DEFAULT_SECRET_ENV;
    from = `$${name}`;
    secret = io.env[name];
    if (secret === undefined) throw new UsageError(`no secret: set ${name}, or use --secret-file / --secret-stdin`);
  }
  secret = secret?.trim();
  if (!isValidSharedSecret(secret)) throw new UsageError(`the secret from ${from} is not base64 of exactly 32 bytes`);
  return secret;
}

/** Reads a JSON document from a file, or from stdin when `path` is undefined or `-`. */
export async function readJsonInput(path: string | undefined, what: string, io: CliIo, stdinTaken: boolean): Promise<unknown> {
  let text: string;
  if (path === undefined || path === '-') {
    if (stdinTaken) throw new UsageError(`stdin carries the secret: give the ${what} as a file`);
    text = await readStdin(io);
  } else {
    text = await readTextFile(path, what);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`the ${what} is not valid JSON`);
  }
}

/** Checks a `--layout` value; a bad one is a usage error listing the names. */
export function cliLayout(value: string | undefined): DataLayoutName {
  try {
    return checkLayoutOption(value, '--layout');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
