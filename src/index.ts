/**
 * kompliant-webhooks: receive Kompliant's AES-256-GCM encrypted webhooks safely.
 * This entry point has no runtime dependency beyond node:crypto and never loads an optional
 * peer; integrations live behind their own subpaths.
 *
 * @packageDocumentation
 */
export { kompliantWebhook } from './adapters/express.js';
export type { KompliantWebhookMiddleware, KompliantWebhookOptions, WebhookRequest } from './adapters/express.js';
export { createWebhookReceiver } from './receiver/receiver.js';
export type { WebhookReceiver } from './receiver/receiver.js';
export type { EnvelopeOptions } from './receiver/options.js';
export type { HttpHandlerOptions } from './http/handler.js';
export { openEnvelope } from './wire/open-envelope.js';
export type { OpenEnvelopeOptions } from './wire/open-envelope.js';
export { WebhookError, isWebhookError, WEBHOOK_ERROR_STATUS } from './wire/errors.js';
export type { WebhookErrorCode, WebhookErrorOptions } from './wire/errors.js';
export type { AadOption } from './wire/envelope.js';
export { isValidSharedSecret } from './wire/secret.js';
export type { SharedSecret } from './wire/secret.js';
export type { Inbox, InboxMeta } from './inbox/inbox.js';
export type { KeyLookupContext, KeyStore, RefetchContext } from './key-stores/key-store.js';
export { memoryKeyStore } from './key-stores/memory.js';
export type { FlatSecrets, SecretsByAccount } from './key-stores/memory.js';
export { KOMPLIANT_EVENT_TYPES } from './wire/event.js';
export type {
  ChangedBusinessEntity,
  ChangedEntity,
  DecisionDocumentGeneratedData,
  EnvelopeMetadata,
  EventType,
  KnownEventDataByType,
  KnownEventType,
  KnownKompliantEvent,
  KompliantEnvelope,
  KompliantEvent,
  KompliantEventOf,
  KompliantEventWithData,
  MbtrustEventData,
  MbtrustProvisioningData,
  PayloadV1,
  PropayEventData,
  PropayProvisioningData,
  ProvisioningDataBase,
  ProvisioningExecutionResult,
  SubjectRecordDataUpdatedData,
  SubjectRecordEntities,
  UnderwritingStatus,
  UnderwritingStatusUpdatedData,
  UnknownKompliantEvent,
  UserContext,
  WorkflowEventData,
  WorkflowType,
} from './wire/event.js';
export { envKeyStore } from './key-stores/env.js';
export type { EnvKeyStoreOptions } from './key-stores/env.js';
export { cachedKeyStore } from './key-stores/cache.js';
export type { CachedKeyStoreOptions } from './key-stores/cache.js';
export { chainKeyStores } from './key-stores/chain.js';
export { requireValidSharedSecret } from './wire/secret.js';
export type { HandleOptions, HandleResult, ReceiverOptions } from './receiver/receiver.js';
export type { DeliveryOptions } from './delivery/options.js';
export type { ClaimResult, IdempotencyStore } from './idempotency/idempotency-store.js';
export { memoryIdempotencyStore } from './idempotency/memory.js';
export type { MemoryIdempotencyStoreOptions } from './idempotency/memory.js';
export { createEventRouter } from './receiver/router.js';
export type { EventRouter, EventRouterOptions, KompliantEventDataMap, RoutedEvent, RouteHandler } from './receiver/router.js';
export type { PayloadSchemas, SchemaEvent, SchemaOutput, SchemaTypedEvent } from './receiver/payload-schemas.js';
export type { StandardSchemaV1 } from './wire/standard-schema.js';
export { DELIVERY_CHANNEL_NAME } from './delivery/channel.js';
export type { DeliveryChannelEvent, DeliveryChannelMessage, TraceContext } from './delivery/channel.js';
export { createIpAllowList, KOMPLIANT_SENDER_IPS } from './http/ip-allow-list.js';
export type { WebhookLogFields, WebhookLogger, WebhookOutcome } from './delivery/logger.js';
export { createWebhookStats } from './delivery/stats.js';
export type { WebhookCounter, WebhookStats, WebhookStatsSink, WebhookStatsSnapshot } from './delivery/stats.js';
export type { DataLayoutName } from './wire/data-layout.js';
