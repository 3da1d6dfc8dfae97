// The shape of one CLI command: its name, help text and run function.
import type { CliIo } from './input.js';

/** One CLI command. `run` resolves to the exit code. */
export interface CliCommand {
  name: string;
  summary: string;
  help: string;
  run(args: string[], io: CliIo): Promise<number>;
}
