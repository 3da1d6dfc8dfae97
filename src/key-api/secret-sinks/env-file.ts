// A secret sink that writes new secrets into an env file (mode 0600).
import { chmod, readFile, appendFile } from 'node:fs/promises';
import { ID_PATTERN, isValidKeyId } from '../../wire/envelope.js';
import type { KeyStore } from '../../key-stores/key-store.js';
import type { SecretSink } from '../secret-sink.js';

/** Default variable prefix: `KOMPLIANT_WEBHOOK_SECRET_20251121_01` for `whk_20251121_01`. */
const DEFAULT_ENV_FILE_PREFIX = 'KOMPLIANT_WEBHOOK_SECRET_';

/** Options of {@link envFileSink}. */
export interface EnvFileSinkOptions {
  /** The env file (dotenv format) to append to; created with mode 0600 when missing. */
  path: string;
  /**
   * Variable prefix; the account id, `_` and the key id without `whk_` follow it
   * (`KOMPLIANT_WEBHOOK_SECRET_lv_A_20251121_01`), as `envKeyStore` reads first.
   *
   * @defaultValue `'KOMPLIANT_WEBHOOK_SECRET_'`
   */
  prefix?: string;
}

function readVariable(text: string, name: string): string | undefined {
  let found: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq).trim() === name) found = line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return found;
}

/**
 * A secret sink that appends `KOMPLIANT_WEBHOOK_SECRET_<account_id>_<YYYYMMDD_NN>=<secret>` to a
 * dotenv file (mode 0600) and reads it back from the file. It refuses to overwrite a variable
 * that is already set. The names are the account-scoped ones `envKeyStore` reads first, so two
 * accounts' `whk_20251121_01` never collide.
 *
 * @example
 * ```ts
 * const result = await rotateWebhookKey({ client, accountId, sink: envFileSink({ path: '.env' }) });
 * ```
 */
export function envFileSink(options: EnvFileSinkOptions): SecretSink {
  if (typeof options?.path !== 'string' || options.path.length === 0) throw new TypeError('envFileSink: path must be a non-empty string');
  const prefix = options.prefix ?? DEFAULT_ENV_FILE_PREFIX;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw new TypeError('envFileSink: prefix must be a valid variable name prefix');
  const { path } = options;
  // With an account the variable is the account's own (what envKeyStore reads first); without
  // one (a store call outside a rotation), the flat name.
  const variable = (keyId: string, accountId: string | undefined): string =>
    `${prefix}${accountId === undefined ? '' : `${accountId}_`}${keyId.slice('whk_'.length)}`;
  const accountOf = (context: { accountId?: unknown } | undefined): string | undefined =>
    typeof context?.accountId === 'string' && ID_PATTERN.test(context.accountId) ? context.accountId : undefined;

  async function readText(): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }

  const keyStore: KeyStore = {
    async getSecret(keyId, context) {
      if (!isValidKeyId(keyId)) return undefined;
      const text = await readText();
      const accountId = accountOf(context);
      const scoped = accountId === undefined ? undefined : readVariable(text, variable(keyId, accountId));
      return scoped ?? readVariable(text, variable(keyId, undefined));
    },
  };

  return {
    name: 'env-file',
    keyStore,
    async store(keyId, secret, context) {
      if (!isValidKeyId(keyId)) throw new TypeError('envFileSink: invalid key id');
      const name = variable(keyId, accountOf(context));
      const text = await readText();
      if (readVariable(text, name) !== undefined) throw new Error(`${name} is already set in the env file`);
      const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
      await appendFile(path, `${separator}${name}=${secret}\n`, { mode: 0o600 });
      await chmod(path, 0o600);
    },
  };
}
