// A secret sink that writes new secrets to AWS Secrets Manager.
import { CreateSecretCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { isValidKeyId } from '../../wire/envelope.js';
import { checkKeyStore, type KeyStore } from '../../key-stores/key-store.js';
import { awsSecretsManagerKeyStore, toSecretIdFunction, type AwsClientChoice, type AwsSecretIdOption } from '../../key-stores/aws-secrets-manager.js';
import { checkOptionNames, checkPositiveInteger } from '../../options/checks.js';
import type { SecretSink } from '../secret-sink.js';

/** Options of {@link awsSecretsManagerSink}: a client or its config (never both), and more. */
export type AwsSecretsManagerSinkOptions = AwsClientChoice & {
  /**
   * Secret name for a key id of an account: a template with `{key_id}` and `{account_id}`, or a
   * function `(keyId, accountId) => name`; give the receiver's store the same one. Default
   * `` keyId => `kompliant/webhook/${keyId}` `` (what `awsSecretsManagerKeyStore` reads by
   * default; for several accounts use `'kompliant/webhook/{account_id}/{key_id}'` in both).
   */
  secretId?: AwsSecretIdOption;
  /**
   * How the receiver reads the secrets, for the read-back. Default: `awsSecretsManagerKeyStore`
   * with the same client and `secretId` (what a receiver on the per-key layout uses).
   */
  keyStore?: KeyStore;
  /** Deadline of the CreateSecret call, SDK retries included. Default 10 000 ms. */
  timeoutMs?: number;
};

const OPTION_NAMES = ['client', 'clientConfig', 'secretId', 'keyStore', 'timeoutMs'];
const WHERE = 'awsSecretsManagerSink';

/**
 * A rotation sink that calls AWS Secrets Manager `CreateSecret` for each new key, named
 * `kompliant/webhook/<key_id>` by default, with the base64 shared secret as SecretString
 * (the layout `awsSecretsManagerKeyStore` reads by default). CreateSecret never overwrites: an
 * existing name (`ResourceExistsException`) fails the store step. The read-back goes through
 * `awsSecretsManagerKeyStore` on the same client unless another `keyStore` is given. From the
 * subpath `kompliant-webhooks/aws` (optional peer `@aws-sdk/client-secrets-manager`).
 *
 * @example
 * ```ts
 * import { awsSecretsManagerSink } from 'kompliant-webhooks/aws';
 * import { createKompliantClient, rotateWebhookKey } from 'kompliant-webhooks/client';
 *
 * const result = await rotateWebhookKey({
 *   client: createKompliantClient(),
 *   accountId: 'lv_4K8mPxR9N2jL7hS5TdWfY1',
 *   sink: awsSecretsManagerSink({ clientConfig: { region: 'eu-west-1' } }),
 * });
 * ```
 */
export function awsSecretsManagerSink(options: AwsSecretsManagerSinkOptions = {}): SecretSink {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${WHERE}: options must be an object`);
  checkOptionNames(options, OPTION_NAMES, WHERE);
  const o = options as Record<string, unknown>;
  if (o.client !== undefined && o.clientConfig !== undefined) throw new TypeError(`${WHERE}: give client or clientConfig, not both`);
  if (o.client !== undefined && typeof (o.client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`${WHERE}: client must be a SecretsManagerClient`);
  }
  const secretId = toSecretIdFunction(o.secretId, WHERE);
  const timeoutMs = checkPositiveInteger(o.timeoutMs, 'timeoutMs', 10_000);
  const client =
    (o.client as SecretsManagerClient | undefined) ??
    new SecretsManagerClient((o.clientConfig as SecretsManagerClientConfig | undefined) ?? {});
  const keyStore =
    o.keyStore === undefined
      ? awsSecretsManagerKeyStore({ client, secretId: (o.secretId as AwsSecretIdOption | undefined) ?? secretId })
      : checkKeyStore(o.keyStore, `${WHERE}: keyStore`);
  return {
    name: 'aws-secrets-manager',
    keyStore,
    async store(keyId, secret, context) {
      if (!isValidKeyId(keyId)) throw new TypeError(`${WHERE}: invalid key id`);
      const accountId = context?.accountId ?? '';
      await client.send(
        new CreateSecretCommand({
          Name: secretId(keyId, accountId),
          SecretString: secret,
          Description: `Kompliant webhook shared secret for ${keyId}${accountId === '' ? '' : ` of account ${accountId}`}`,
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    },
  };
}
