// The `keygen` command: prints or writes a fresh 32-byte shared secret.
import { writeFile } from 'node:fs/promises';
import { generateSharedSecret } from '../../sealing/seal.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

/** `keygen`: a fresh shared secret. */
export const keygenCommand: CliCommand = {
  name: 'keygen',
  summary: 'print a fresh shared secret (base64 of 32 random bytes)',
  help: `Usage: kompliant-webhooks keygen [--out PATH]

Prints a fresh AES-256 shared secret, base64 of 32 random bytes, as webhook.key.create issues
them: for local tests and the emulator. With --out it is written to PATH (mode 0600, which must
not exist yet) instead of stdout.`,
  async run(args, io) {
    const values = parseOptions(args, { out: { type: 'string' } });
    const secret = generateSharedSecret();
    if (values.out === undefined) {
      io.stdout(`${secret}\n`);
      return EXIT.OK;
    }
    try {
      await writeFile(values.out, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      throw new UsageError(`cannot create ${values.out} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    io.stderr(`secret written to ${values.out}\n`);
    return EXIT.OK;
  },
};
