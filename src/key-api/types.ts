/** `meta.version` of Kompliant's key management API envelopes. */
export const KEY_API_VERSION = '2025-03-24';
/** Default base URL of the key management API. */
export const DEFAULT_KOMPLIANT_BASE_URL = 'https://api.kompliant.com';

/** Lifecycle of a webhook key: INACTIVE -> ACTIVE -> DELETED, never back. */
export type WebhookKeyStatus = 'INACTIVE' | 'ACTIVE' | 'DELETED';

/** `data` of `webhook.key.create`: the only answer that ever carries the secret. */
export interface CreatedWebhookKey {
  key_id: string;
  shared_secret: string;
  status: 'INACTIVE';
  created_at: string;
}

/** `data` of `webhook.key.activate`. */
export interface ActivatedWebhookKey {
  key_id: string;
  status: 'ACTIVE';
  activated_at: string;
}

/** `data` of `webhook.key.get` (never the secret). */
export interface WebhookKeyInfo {
  key_id: string;
  status: WebhookKeyStatus;
  created_at: string;
  activated_at?: string;
  deleted_at?: string;
}

/** `data` of `webhook.config.create`. */
export interface CreatedWebhookConfig {
  /** `whc_...` */
  config_id: string;
}

/** A webhook config as `webhook.config.get`, `list` and `update` return it. */
export interface WebhookConfig {
  /** `whc_...` */
  config_id: string;
  url: string;
  created_at: string;
  updated_at: string;
}

/** `data` of `webhook.config.list`: the account's active configs (deleted ones are not listed). */
export interface WebhookConfigList {
  configs: WebhookConfig[];
}

/** `data` of `webhook.config.delete` (a permanent soft delete). */
export interface DeletedWebhookConfig {
  config_id: string;
}

/** One entry of `errors` in an error envelope. */
export interface KeyApiErrorEntry {
  code: string;
  message: string;
  entity_type?: string;
  sub_code?: string;
}

/** The documented methods, `POST /<method>`. */
export const KEY_API_METHODS = [
  'webhook.key.create',
  'webhook.key.activate',
  'webhook.key.get',
  'webhook.config.create',
  'webhook.config.get',
  'webhook.config.list',
  'webhook.config.update',
  'webhook.config.delete',
] as const;

/** One of {@link KEY_API_METHODS}. */
export type KeyApiMethod = (typeof KEY_API_METHODS)[number];
