#!/usr/bin/env node
/**
 * The `kompliant-webhooks` command line: keygen, seal, send, open, detect, rotate, config, emulator, inbox.
 * Secrets are read from env, files or stdin, never from argv, and never echoed.
 *
 * @packageDocumentation
 */
import type { CliIo } from './cli/input.js';
import type { CliCommand } from './cli/command.js';
import { configCommand } from './cli/commands/config.js';
import { detectCommand } from './cli/commands/detect.js';
import { emulatorCommand } from './cli/commands/emulator.js';
import { inboxCommand } from './cli/commands/inbox.js';
import { keygenCommand } from './cli/commands/keygen.js';
import { openCommand } from './cli/commands/open.js';
import { rotateCommand } from './cli/commands/rotate.js';
import { sealCommand } from './cli/commands/seal.js';
import { sendCommand } from './cli/commands/send.js';
import { EXIT, UsageError } from './cli/args.js';
import { packageVersion } from './cli/version.js';

const COMMANDS = new Map<string, CliCommand>(
  [keygenCommand, sealCommand, sendCommand, openCommand, detectCommand, rotateCommand, configCommand, emulatorCommand, inboxCommand].map((c) => [c.name, c]),
);

const HELP = `Usage: kompliant-webhooks <command> [options]     (kompliant-webhooks <command> --help)

Commands:
${[...COMMANDS.values()].map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Options:
  --version   print the version of kompliant-webhooks
  --help      print this help

Exit codes:
  0  success
  1  the operation failed (decryption failed, non-200 answer, no format matched, API or rotation error)
  2  usage error (unknown command or option, missing or unreadable input, malformed secret,
     an optional package the command needs is not installed: the message names it)
  3  unexpected internal error`;

/** Runs the CLI with `args` (without node and script); resolves to the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${HELP}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS.get(name);
  if (command === undefined) {
    io.stderr(`unknown command ${JSON.stringify(name.slice(0, 40))}\n\n${HELP}\n`);
    return EXIT.USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.help}\n`);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${command.name}: ${error.message}\n(kompliant-webhooks ${command.name} --help)\n`);
      return EXIT.USAGE;
    }
    // Only the class name: an unexpected error's message could quote an input.
    io.stderr(`${command.name}: unexpected ${error instanceof Error ? error.name : 'error'}\n`);
    return 3;
  }
}

const io: CliIo = {
  stdin: process.stdin,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
};
runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 3;
  },
);
