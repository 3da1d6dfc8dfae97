import { isValidKeyId } from '../envelope.js';
import { checkKeyStore, type KeyStore } from '../key-store.js';
import type { SecretSink } from '../secret-sink.js';

/** The CreateSecret input this sink sends (a subset of the SDK's `CreateSecretCommandInput`). */
export interface AwsCreateSecretInput {
  Name: string;
  SecretString: string;
  Description: string;
}

/** Options of {@link awsSecretsManagerSink}. */
export interface AwsSecretsManagerSinkOptions {
  /**
   * Calls Secrets Manager `CreateSecret`, typically
   * `(input) => client.send(new CreateSecretCommand(input))` with your `SecretsManagerClient`.
   * Taking the call rather than the client keeps the AWS SDK out of this package's imports.
   */
  createSecret: (input: AwsCreateSecretInput) => Promise<unknown>;
  /**
   * The key store the receiver uses to read these secrets (e.g. `awsSecretsManagerKeyStore`
   * with the same client), so the rotation reads the new secret back exactly as the receiver
   * will. Required: a sink that is not read back never leads to an activation.
   */
  keyStore: KeyStore;
  /** Secret name for a key id. Default `` keyId => `kompliant/webhook/${keyId}` ``. */
  secretId?: (keyId: string) => string;
}

/**
 * A secret sink that creates one AWS Secrets Manager secret per key, named
 * `kompliant/webhook/<key_id>` by default, whose SecretString is the base64 shared secret.
 * `CreateSecret` never overwrites: an existing name fails the store step.
 *
 * @example
 * ```ts
 * import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 *
 * const sm = new SecretsManagerClient({ region: 'eu-west-1' });
 * const sink = awsSecretsManagerSink({
 *   createSecret: (input) => sm.send(new CreateSecretCommand(input)),
 *   keyStore: receiverKeyStore, // the store your receiver reads, e.g. awsSecretsManagerKeyStore({ client: sm })
 * });
 * await rotateWebhookKey({ client, accountId, sink });
 * ```
 */
export function awsSecretsManagerSink(options: AwsSecretsManagerSinkOptions): SecretSink {
  if (typeof options !== 'object' || options === null) throw new TypeError('awsSecretsManagerSink: options must be an object');
  if (typeof options.createSecret !== 'function') throw new TypeError('awsSecretsManagerSink: createSecret must be a function');
  const keyStore = checkKeyStore(options.keyStore, 'awsSecretsManagerSink: keyStore');
  const secretId = options.secretId ?? ((keyId: string) => `kompliant/webhook/${keyId}`);
  if (typeof secretId !== 'function') throw new TypeError('awsSecretsManagerSink: secretId must be a function');
  return {
    name: 'aws-secrets-manager',
    keyStore,
    async store(keyId, secret) {
      if (!isValidKeyId(keyId)) throw new TypeError('awsSecretsManagerSink: invalid key id');
      await options.createSecret({
        Name: secretId(keyId),
        SecretString: secret,
        Description: `Kompliant webhook shared secret for ${keyId}`,
      });
    },
  };
}
