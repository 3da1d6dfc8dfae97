// A secret sink that prints the new secret for a person to store.
import type { SecretSink } from '../secret-sink.js';

/** Options of {@link stdoutSink}. */
export interface StdoutSinkOptions {
  /** Where the line is written. Default `process.stdout.write`. */
  write?: (text: string) => void;
}

/**
 * A secret sink for manual storage: prints `<key_id> <secret>` once (the account is the one the
 * rotation was started for: store the secret under it), for a human to put where
 * the receiver reads keys. It cannot be read back, so a rotation with it needs a `keyStore`
 * (the store the human filled) to verify before activating; without one it stops, unactivated.
 *
 * @example
 * ```ts
 * await rotateWebhookKey({ client, accountId, sink: stdoutSink(), keyStore: myReceiverKeyStore });
 * ```
 */
export function stdoutSink(options: StdoutSinkOptions = {}): SecretSink {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  return {
    name: 'stdout',
    store(keyId, secret) {
      write(`${keyId} ${secret}\n`);
      return Promise.resolve();
    },
  };
}
