// The `emulator` command: runs the local Kompliant emulator until stopped.
import { startEmulator } from '../../emulator/start.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer`);
  return n;
}

/** `emulator`: run the local Kompliant emulator. */
export const emulatorCommand: CliCommand = {
  name: 'emulator',
  summary: 'run a local Kompliant (key API + webhook delivery) until Ctrl-C',
  help: `Usage: kompliant-webhooks emulator [options]

Runs the local emulator: the key API methods (webhook.key.*, webhook.config.*) with Kompliant's
rules, KSig1 checked on every call, and webhook delivery with retries to every active config of
the account (POST /_emulator/emit {account_id, event_type, data?}: without data, a sample of the
type; GET /_emulator/deliveries?event_id=...). Prints {url, accounts} as JSON on stdout:
the seeded accounts' credentials are local, emulator-only values. Stops on SIGINT/SIGTERM.

  --port N                 port (default 0: a free one)
  --host HOST              interface (default 127.0.0.1)
  --seed-file PATH         {"accounts":[{"account_id","api_key","secret_key","auth_token"}]}
  --allow-http-localhost   accept http://localhost webhook URLs
  --time-scale X           multiply delivery delays (e.g. 0.01; default 1)
  --max-retries N          retries after the first delivery attempt (default 95)`,
  async run(args, io) {
    const values = parseOptions(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      'seed-file': { type: 'string' },
      'allow-http-localhost': { type: 'boolean' },
      'time-scale': { type: 'string' },
      'max-retries': { type: 'string' },
    });
    const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
    const port = integer(values.port, '--port');
    const maxRetries = integer(values['max-retries'], '--max-retries');
    let emulator;
    try {
      emulator = await startEmulator({
        ...(values.host === undefined ? {} : { host: values.host }),
        ...(port === undefined ? {} : { port }),
        ...(values['seed-file'] === undefined ? {} : { seedFile: values['seed-file'] }),
        ...(timeScale === undefined ? {} : { timeScale }),
        ...(maxRetries === undefined ? {} : { maxRetries }),
        allowHttpLocalhost: values['allow-http-localhost'] === true,
      });
    } catch (error) {
      if (error instanceof TypeError) throw new UsageError(error.message);
      io.stderr(`cannot start the emulator (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`);
      return EXIT.FAILED;
    }
    io.stdout(`${JSON.stringify({ url: emulator.url, accounts: emulator.accounts }, null, 2)}\n`);
    io.stderr(`Kompliant emulator listening on ${emulator.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await emulator.close();
    return EXIT.OK;
  },
};
