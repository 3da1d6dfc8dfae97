/**
 * AWS integrations of kompliant-webhooks, from `kompliant-webhooks/aws`. Needs the optional
 * peer dependency `@aws-sdk/client-secrets-manager`; the main entry never loads it.
 *
 * @packageDocumentation
 */
export { awsSecretsManagerKeyStore, defaultAwsSecretId } from './key-stores/aws-secrets-manager.js';
export type {
  AwsBundleSecret,
  AwsClientChoice,
  AwsCommonOptions,
  AwsPerKeySecrets,
  AwsSecretIdOption,
  AwsSecretsManagerKeyStoreOptions,
} from './key-stores/aws-secrets-manager.js';
export { awsSecretsManagerSink } from './key-api/secret-sinks/aws-secrets-manager.js';
export type { AwsSecretsManagerSinkOptions } from './key-api/secret-sinks/aws-secrets-manager.js';
