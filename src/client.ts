/**
 * The Kompliant key management API client: `webhook.key.create`, `webhook.key.activate`,
 * `webhook.key.get` and `webhook.config.create/get/list/update/delete`, signed with KSig1-HMAC-SHA256.
 *
 * @packageDocumentation
 */
export * from './key-api/client.js';
export { KompliantApiError, isKompliantApiError, isDailyLimitError, DAILY_LIMIT_EXCEEDED, DAILY_KEY_LIMIT_ALIAS } from './key-api/api-error.js';
export type { KompliantApiErrorCode, KompliantApiErrorInit } from './key-api/api-error.js';
export type { KompliantCredentials } from './key-api/ksig.js';
export { KEY_API_VERSION } from './key-api/types.js';
export type {
  ActivatedWebhookKey,
  CreatedWebhookConfig,
  CreatedWebhookKey,
  DeletedWebhookConfig,
  WebhookConfig,
  WebhookConfigList,
  WebhookKeyInfo,
  WebhookKeyStatus,
} from './key-api/types.js';
export { rotateWebhookKey, RotationError } from './key-api/rotation.js';
export type { RotateWebhookKeyOptions, RotationResult, RotationStep } from './key-api/rotation.js';
export type { SecretSink } from './key-api/secret-sink.js';
export { envFileSink } from './key-api/secret-sinks/env-file.js';
export type { EnvFileSinkOptions } from './key-api/secret-sinks/env-file.js';
export { stdoutSink } from './key-api/secret-sinks/stdout.js';
export type { StdoutSinkOptions } from './key-api/secret-sinks/stdout.js';
