// The `seal` command: encrypts a payload into an envelope exactly as Kompliant does.
import { DATA_LAYOUT_NAMES } from '../../wire/data-layout.js';
import { isValidKeyId } from '../../wire/envelope.js';
import type { KompliantEnvelope } from '../../wire/event.js';
import { createTestWebhook, TEST_ACCOUNT_ID } from '../../sealing/seal.js';
import { cliLayout, readJsonInput, readSecret, SECRET_HELP, SECRET_OPTIONS, type CliIo } from '../input.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

/** Options shared by `seal` and `send`. */
export const SEAL_OPTIONS = {
  ...SECRET_OPTIONS,
  'data-file': { type: 'string' },
  'key-id': { type: 'string' },
  'event-type': { type: 'string' },
  'account-id': { type: 'string' },
  aad: { type: 'string' },
  layout: { type: 'string' },
} as const;

/** Help lines for {@link SEAL_OPTIONS}. */
export const SEAL_HELP = `Envelope:
  --data-file PATH     payload JSON object (default: stdin; '-' is stdin too)
  --key-id ID          key_id (default whk_<today UTC>_01)
  --event-type TYPE    event_type (default WORKFLOW_COMPLETED)
  --account-id ID      account_id (default ${TEST_ACCOUNT_ID}, the same every time)
  --aad default|none   AAD construction (default: default)
  --layout NAME        byte order of data, as \`detect\` names it (default: ${DATA_LAYOUT_NAMES[0]}):
                       ${DATA_LAYOUT_NAMES.slice(0, 3).join(', ')},
                       ${DATA_LAYOUT_NAMES.slice(3).join(', ')}

${SECRET_HELP}`;

/** Builds the envelope from parsed `seal`/`send` options. */
export async function sealFromOptions(values: ReturnType<typeof parseOptions<typeof SEAL_OPTIONS>>, io: CliIo): Promise<KompliantEnvelope> {
  const secret = await readSecret(values, io);
  const data = await readJsonInput(values['data-file'], 'payload', io, values['secret-stdin'] === true);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError('the payload must be a JSON object');
  if (values['key-id'] !== undefined && !isValidKeyId(values['key-id'])) throw new UsageError('--key-id must be of the form whk_YYYYMMDD_NN');
  const aad = values.aad ?? 'default';
  if (aad !== 'default' && aad !== 'none') throw new UsageError('--aad must be default or none');
  const layout = cliLayout(values.layout);
  try {
    return createTestWebhook({
      secret,
      data,
      aad,
      layout,
      ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }),
      ...(values['event-type'] === undefined ? {} : { eventType: values['event-type'] }),
      ...(values['account-id'] === undefined ? {} : { account_id: values['account-id'] }),
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `seal`: encrypt a payload into an envelope. */
export const sealCommand: CliCommand = {
  name: 'seal',
  summary: 'encrypt a payload into an envelope, as Kompliant does',
  help: `Usage: kompliant-webhooks seal [options] < payload.json > envelope.json

Encrypts a JSON payload with AES-256-GCM exactly as the wire format says and prints the
envelope JSON.

${SEAL_HELP}`,
  async run(args, io) {
    const envelope = await sealFromOptions(parseOptions(args, SEAL_OPTIONS), io);
    io.stdout(`${JSON.stringify(envelope, null, 2)}\n`);
    return EXIT.OK;
  },
};
