// A secret sink that writes new secrets into an env file (mode 0600).
import { chmod, readFile, appendFile } from 'node:fs/promises';
import { isValidKeyId } from '../../wire/envelope.js';
import type { KeyStore } from '../../key-stores/key-store.js';
import type { SecretSink } from '../secret-sink.js';

/** Default variable prefix: `KOMPLIANT_WEBHOOK_SECRET_20251121_01` for `whk_20251121_01`. */
export const DEFAULT_ENV_FILE_PREFIX = 'KOMPLIANT_WEBHOOK_SECRET_';

/** Options of {@link envFileSink}. */
export interface EnvFileSinkOptions {
  /** The env file (dotenv format) to append to; created with mode 0600 when missing. */
  path: string;
  /** Variable prefix; the key id without `whk_` follows it. Default `'KOMPLIANT_WEBHOOK_SECRET_'`. */
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
 * A secret sink that appends `KOMPLIANT_WEBHOOK_SECRET_<YYYYMMDD_NN>=<secret>` to a dotenv file
 * (mode 0600) and reads it back from the file. It refuses to overwrite a variable that is already
 * set. The variable names match the env key store's default prefix.
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
  const variable = (keyId: string): string => `${prefix}${keyId.slice('whk_'.length)}`;

  async function readText(): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }

  const keyStore: KeyStore = {
    async getSecret(keyId) {
      if (!isValidKeyId(keyId)) return undefined;
      return readVariable(await readText(), variable(keyId));
    },
  };

  return {
    name: 'env-file',
    keyStore,
    async store(keyId, secret) {
      if (!isValidKeyId(keyId)) throw new TypeError('envFileSink: invalid key id');
      const text = await readText();
      if (readVariable(text, variable(keyId)) !== undefined) throw new Error(`${variable(keyId)} is already set in the env file`);
      const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
      await appendFile(path, `${separator}${variable(keyId)}=${secret}\n`, { mode: 0o600 });
      await chmod(path, 0o600);
    },
  };
}
