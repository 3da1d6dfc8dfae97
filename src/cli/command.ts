import type { CliIo } from './cli-input.js';

/** One CLI command. `run` resolves to the exit code. */
export interface CliCommand {
  name: string;
  summary: string;
  help: string;
  run(args: string[], io: CliIo): Promise<number>;
}
