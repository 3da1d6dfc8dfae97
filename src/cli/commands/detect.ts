// The `detect` command: finds the payload layout and AAD that authenticate a captured envelope.
import { AAD_CANDIDATES, DATA_LAYOUTS, detectEnvelopeFormat } from '../../wire/detect.js';
import { isWebhookError } from '../../wire/errors.js';
import { readJsonInput, readSecret, SECRET_HELP, SECRET_OPTIONS } from '../input.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions } from '../args.js';

/** `detect`: which layout and AAD construction a captured envelope uses. */
export const detectCommand: CliCommand = {
  name: 'detect',
  summary: 'find which data layout and AAD construction a captured envelope uses',
  help: `Usage: kompliant-webhooks detect [--envelope-file PATH] [--json] [secret option]

Given a captured real envelope and its secret, tries every known data layout
(${DATA_LAYOUTS.map((l) => l.name).join(', ')})
and AAD construction (${AAD_CANDIDATES.length} candidates, from the spec default to none) and reports which
authenticates, with the receiver options to use (the layout name is the value of the
receiver's \`layout\` option). Never prints the plaintext.
Exit 0 when one authenticates, 1 when none does.

  --envelope-file PATH the envelope JSON (default: stdin)
  --json               print the result as JSON

${SECRET_HELP}`,
  async run(args, io) {
    const values = parseOptions(args, { ...SECRET_OPTIONS, 'envelope-file': { type: 'string' }, json: { type: 'boolean' } });
    const secret = await readSecret(values, io);
    const envelope = await readJsonInput(values['envelope-file'], 'envelope', io, values['secret-stdin'] === true);
    let found;
    try {
      found = detectEnvelopeFormat(envelope, secret);
    } catch (error) {
      if (!isWebhookError(error)) throw error;
      io.stderr(`${error.code}: ${error.message}\n`);
      return EXIT.FAILED;
    }
    const tried = DATA_LAYOUTS.length * AAD_CANDIDATES.length;
    if (values.json === true) {
      io.stdout(`${JSON.stringify({ tried, matches: found }, null, 2)}\n`);
    } else if (found.length === 0) {
      io.stdout(`No known format authenticates (${tried} combinations tried): wrong secret, or a layout this tool does not know.\n`);
    } else {
      for (const f of found) {
        const configure = f.layoutOption === undefined ? f.option : `${f.layoutOption}, ${f.option}`;
        io.stdout(`AUTHENTICATES  layout: ${f.layout}${f.layoutOption === undefined ? ' (the default)' : ''}\n               aad:    ${f.aad}\n               configure: ${configure}${f.jsonPayload ? '' : '\n               (the plaintext is not a JSON object)'}\n`);
      }
    }
    return found.length > 0 ? EXIT.OK : EXIT.FAILED;
  },
};
