/**
 * kompliant-webhooks: receive Kompliant's AES-256-GCM encrypted webhooks safely.
 * This entry point has no runtime dependency beyond node:crypto and never loads an optional
 * peer; integrations live behind their own subpaths.
 *
 * @packageDocumentation
 */
export { kompliantWebhook } from './express.js';
export type { KompliantWebhookMiddleware, KompliantWebhookOptions, WebhookRequest } from './express.js';
export { createWebhookReceiver } from './receive.js';
export type { WebhookReceiver } from './receive.js';
export type { ReceiverOptions } from './options.js';
export { DEFAULT_MAX_BODY_BYTES } from './options.js';
export { DEFAULT_READ_TIMEOUT_MS } from './http-handler.js';
export type { HttpHandlerOptions } from './http-handler.js';
export { openEnvelope } from './open-envelope.js';
export type { OpenEnvelopeOptions } from './open-envelope.js';
export { decryptData, NONCE_BYTES, TAG_BYTES } from './aes-gcm.js';
export { WebhookError, isWebhookError, WEBHOOK_ERROR_STATUS } from './errors.js';
export type { WebhookErrorCode, WebhookErrorOptions } from './errors.js';
export { defaultAad, isValidKeyId, KEY_ID_PATTERN } from './envelope.js';
export type { AadOption } from './envelope.js';
export { isValidSharedSecret } from './secret.js';
export type { SharedSecret } from './secret.js';
export type { KeyStore } from './key-store.js';
export { memoryKeyStore } from './key-stores/memory.js';
export type {
  EnvelopeMetadata,
  EventType,
  KnownEventType,
  KompliantEnvelope,
  KompliantEvent,
  PayloadV1,
  UserContext,
} from './event.js';
export { envKeyStore, DEFAULT_ENV_PREFIX, DEFAULT_ENV_JSON_VARIABLE } from './key-stores/env.js';
export type { EnvKeyStoreOptions } from './key-stores/env.js';
export {
  cachedKeyStore,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_NEGATIVE_TTL_MS,
  DEFAULT_LOOKUPS_PER_SECOND,
} from './key-stores/cache.js';
export type { CachedKeyStoreOptions } from './key-stores/cache.js';
export { chainKeyStores } from './key-stores/chain.js';
export { requireValidSharedSecret } from './secret.js';
export type { HandleResult, WebhookReceiverOptions } from './receive.js';
export { DEFAULT_HANDLER_TIMEOUT_MS } from './delivery.js';
export type { DeliveryOptions } from './delivery.js';
export { DEFAULT_IDEMPOTENCY_LEASE_MS, DEFAULT_IDEMPOTENCY_TTL_MS } from './idempotency.js';
export type { ClaimResult, IdempotencyStore } from './idempotency.js';
export { DEFAULT_MEMORY_IDEMPOTENCY_MAX, memoryIdempotencyStore } from './idempotency/memory.js';
export type { MemoryIdempotencyStoreOptions } from './idempotency/memory.js';
export { createEventRouter } from './router.js';
export type { EventRouter, KompliantEventDataMap, RoutedEvent, RouteHandler } from './router.js';
export { createIpAllowList, KOMPLIANT_SENDER_IPS } from './ip-allow-list.js';
export { SUPPORTED_CONTENT_ENCODINGS } from './content-encoding.js';
export type { WebhookLogFields, WebhookLogger, WebhookOutcome } from './logger.js';
export { createWebhookStats } from './stats.js';
export type { WebhookCounter, WebhookStats, WebhookStatsSink, WebhookStatsSnapshot } from './stats.js';
export { DATA_LAYOUT_NAMES, DEFAULT_DATA_LAYOUT } from './data-layout.js';
export type { DataLayoutName } from './data-layout.js';
