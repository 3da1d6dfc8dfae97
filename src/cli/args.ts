// CLI argument parsing, exit codes and the usage error.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the CLI. */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** The operation failed: decryption failed, non-200 answer, no format matched, API or rotation error. */
  FAILED: 1,
  /** Usage error: unknown command or option, missing or unreadable input, malformed secret, a needed optional package not installed. */
  USAGE: 2,
} as const;

/** A mistake in how the CLI was called (exit code 2). Messages never quote a secret. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `parseArgs` in strict mode; an unknown or malformed option becomes a {@link UsageError}. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs messages name the option, not its value.
    throw new UsageError((error as Error).message);
  }
}
