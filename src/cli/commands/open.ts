// The `open` command: decrypts a captured envelope with a secret and prints the event.
import { DATA_LAYOUT_NAMES } from '../../wire/data-layout.js';
import { isWebhookError } from '../../wire/errors.js';
import { openEnvelope } from '../../wire/open-envelope.js';
import { cliLayout, readJsonInput, readSecret, SECRET_HELP, SECRET_OPTIONS } from '../input.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

/** `open`: decrypt a captured envelope. */
export const openCommand: CliCommand = {
  name: 'open',
  summary: 'decrypt a captured envelope and print the event',
  help: `Usage: kompliant-webhooks open [--envelope-file PATH] [--aad default|none] [--layout NAME] [secret option]

Validates and decrypts one envelope (a captured webhook body) and prints the event JSON. Exit 1
with the error code (DECRYPTION_FAILED, INVALID_ENVELOPE, ...) when it does not open; after
DECRYPTION_FAILED, \`detect\` tells whether another layout or AAD opens it.

  --envelope-file PATH the envelope JSON (default: stdin)
  --aad default|none   AAD construction (default: default)
  --layout NAME        byte order of data, as \`detect\` names it (default: ${DATA_LAYOUT_NAMES[0]}):
                       ${DATA_LAYOUT_NAMES.slice(0, 3).join(', ')},
                       ${DATA_LAYOUT_NAMES.slice(3).join(', ')}

${SECRET_HELP}`,
  async run(args, io) {
    const values = parseOptions(args, { ...SECRET_OPTIONS, 'envelope-file': { type: 'string' }, aad: { type: 'string' }, layout: { type: 'string' } });
    const aad = values.aad ?? 'default';
    if (aad !== 'default' && aad !== 'none') throw new UsageError('--aad must be default or none');
    const layout = cliLayout(values.layout);
    const secret = await readSecret(values, io);
    const envelope = await readJsonInput(values['envelope-file'], 'envelope', io, values['secret-stdin'] === true);
    try {
      io.stdout(`${JSON.stringify(openEnvelope(envelope, secret, { aad, layout }), null, 2)}\n`);
      return EXIT.OK;
    } catch (error) {
      if (!isWebhookError(error)) throw error;
      io.stderr(`${error.code}: ${error.message}\n`);
      if (error.code === 'DECRYPTION_FAILED') {
        io.stderr(
          'If the secret is the right one, the sender may arrange data or build the AAD otherwise: run\n' +
            '`kompliant-webhooks detect` with the same envelope and secret options to find out which.\n',
        );
      }
      return EXIT.FAILED;
    }
  },
};
