// The Kompliant key management API client: `webhook.key.create/activate/get`, `webhook.config.create/get/list/update/delete`, signed with KSig1-HMAC-SHA256.
import { setTimeout as sleep } from 'node:timers/promises';
import { KompliantApiError, type KompliantApiErrorCode } from './api-error.js';
import {
  DEFAULT_KOMPLIANT_BASE_URL,
  type ActivatedWebhookKey,
  type CreatedWebhookConfig,
  type CreatedWebhookKey,
  type DeletedWebhookConfig,
  type KeyApiErrorEntry,
  type KeyApiMethod,
  type WebhookConfig,
  type WebhookConfigList,
  type WebhookKeyInfo,
} from './types.js';
import { checkCredentials, ksig1Headers, type KompliantCredentials } from './ksig.js';
import { checkFunction, checkNonNegativeInteger, checkOptionNames, checkPositiveInteger } from '../options/checks.js';

/** Default per-attempt timeout of the client: 10 s. */
const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;
/** Default number of retries after the first attempt (network errors and 5xx only). */
const DEFAULT_CLIENT_RETRIES = 2;
/** Default first retry delay; doubled on each retry. */
const DEFAULT_CLIENT_RETRY_DELAY_MS = 250;

/** Options of {@link createKompliantClient}. */
export interface KompliantClientOptions {
  /**
   * The API's origin (the emulator's `url` in development).
   *
   * @defaultValue `'https://api.kompliant.com'`
   */
  baseUrl?: string;
  /** Default: env `KOMPLIANT_API_KEY`. */
  apiKey?: string;
  /** Base64 of 33 bytes. Default: env `KOMPLIANT_SECRET_KEY`. Never sent, logged or thrown. */
  secretKey?: string;
  /** Default: env `KOMPLIANT_AUTH_TOKEN`. */
  authToken?: string;
  /**
   * Per-attempt timeout in milliseconds.
   *
   * @defaultValue 10000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt, for network errors, timeouts and 5xx answers only (a 4xx
   * is never retried). Note that a retried `createKey` whose first answer was lost may have
   * created a key that is never returned; it only counts against the daily limit.
   *
   * @defaultValue 2
   */
  retries?: number;
  /**
   * First retry delay in milliseconds, doubled per retry.
   *
   * @defaultValue 250
   */
  retryDelayMs?: number;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Where the env defaults come from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The typed key management API. Every method rejects with a {@link KompliantApiError}. */
export interface KompliantClient {
  /** The base URL in use. */
  readonly baseUrl: string;
  /** `webhook.key.create`: a new INACTIVE key and its secret (the only time it is returned). */
  createKey(input: { accountId: string }): Promise<CreatedWebhookKey>;
  /** `webhook.key.activate`: makes the key ACTIVE and the previous ACTIVE key DELETED. */
  activateKey(input: { keyId: string }): Promise<ActivatedWebhookKey>;
  /** `webhook.key.get`: status and timestamps, never the secret. */
  getKey(input: { keyId: string }): Promise<WebhookKeyInfo>;
  /**
   * `webhook.config.create`: registers a webhook URL for the account (`https://` only; unique per
   * account, else `URL_ALREADY_EXISTS`; at most 20 active configs, else `MAX_WEBHOOK_URL_LIMIT`).
   * Every event of the account is delivered to every active config.
   */
  createConfig(input: { accountId: string; url: string }): Promise<CreatedWebhookConfig>;
  /** `webhook.config.get`: one config; an unknown or deleted id rejects with `ENTITY_NOT_FOUND`. */
  getConfig(input: { accountId: string; configId: string }): Promise<WebhookConfig>;
  /** `webhook.config.list`: the account's active configs (deleted ones are not listed). */
  listConfigs(input: { accountId: string }): Promise<WebhookConfigList>;
  /** `webhook.config.update`: changes the config's URL (the same rules as `createConfig`). */
  updateConfig(input: { accountId: string; configId: string; url: string }): Promise<WebhookConfig>;
  /** `webhook.config.delete`: a permanent soft delete; the config receives nothing from then on. */
  deleteConfig(input: { accountId: string; configId: string }): Promise<DeletedWebhookConfig>;
}

const OPTION_NAMES = ['baseUrl', 'apiKey', 'secretKey', 'authToken', 'timeoutMs', 'retries', 'retryDelayMs', 'fetch', 'env'];

function checkBaseUrl(value: unknown): string {
  if (value === undefined) return DEFAULT_KOMPLIANT_BASE_URL;
  if (typeof value !== 'string') throw new TypeError('createKompliantClient: baseUrl must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('createKompliantClient: baseUrl must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('createKompliantClient: baseUrl must be http(s)');
  }
  return url.href.replace(/\/+$/, '');
}

interface ParsedAnswer {
  status: number;
  body: unknown;
}

function apiError(method: KeyApiMethod, code: KompliantApiErrorCode, message: string, extra: Partial<KompliantApiError> & { cause?: unknown } = {}): KompliantApiError {
  return new KompliantApiError({ code, message: `${method}: ${message}`, method, ...extra });
}

function metaTraceId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const meta = (body as { meta?: unknown }).meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const traceId = (meta as { trace_id?: unknown }).trace_id;
  return typeof traceId === 'string' ? traceId : undefined;
}

function firstErrorEntry(body: unknown): KeyApiErrorEntry | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const entry = errors[0] as Partial<KeyApiErrorEntry> | null;
  if (typeof entry !== 'object' || entry === null || typeof entry.code !== 'string') return undefined;
  return {
    code: entry.code,
    message: typeof entry.message === 'string' ? entry.message : entry.code,
    ...(typeof entry.entity_type === 'string' ? { entity_type: entry.entity_type } : {}),
    ...(typeof entry.sub_code === 'string' ? { sub_code: entry.sub_code } : {}),
  };
}

function interpret<T>(method: KeyApiMethod, answer: ParsedAnswer): T {
  const traceId = metaTraceId(answer.body);
  const entry = firstErrorEntry(answer.body);
  if (answer.status === 200) {
    const data = (answer.body as { data?: unknown } | undefined)?.data;
    const status = ((answer.body as { meta?: { status?: unknown } } | undefined)?.meta)?.status;
    if (status !== 'SUCCESS' || typeof data !== 'object' || data === null) {
      throw apiError(method, 'INVALID_RESPONSE', 'the answer is not a SUCCESS envelope', { httpStatus: 200, traceId });
    }
    return data as T;
  }
  if (entry !== undefined) {
    throw apiError(method, entry.code, entry.message, {
      subCode: entry.sub_code,
      entityType: entry.entity_type,
      httpStatus: answer.status,
      traceId,
    });
  }
  const code = answer.status === 401 || answer.status === 403 ? 'UNAUTHORIZED' : 'HTTP_ERROR';
  throw apiError(method, code, `HTTP ${answer.status}`, { httpStatus: answer.status, traceId });
}

function requireString(value: unknown, name: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${where}: ${name} must be a non-empty string`);
  return value;
}

/**
 * Creates a key management API client. Credentials come from the options or the env vars
 * `KOMPLIANT_API_KEY`, `KOMPLIANT_SECRET_KEY`, `KOMPLIANT_AUTH_TOKEN`; a missing or malformed
 * one throws a TypeError naming it (never its value). Every call is `POST <baseUrl>/<method>`
 * with the KSig1 headers, a per-attempt timeout, and retries with exponential backoff for
 * network errors, timeouts and 5xx only.
 *
 * @example
 * ```ts
 * import { createKompliantClient } from 'kompliant-webhooks/client';
 *
 * const client = createKompliantClient(); // credentials from KOMPLIANT_* env vars
 * const key = await client.createKey({ accountId: 'lv_4K8mPxR9N2jL7hS5TdWfY1' });
 * await secrets.put(`kompliant/webhook/${key.key_id}`, key.shared_secret);
 * await client.activateKey({ keyId: key.key_id });
 * ```
 */
export function createKompliantClient(options: KompliantClientOptions = {}): KompliantClient {
  if (typeof options !== 'object' || options === null) throw new TypeError('createKompliantClient: options must be an object');
  checkOptionNames(options, OPTION_NAMES, 'createKompliantClient');
  const env = options.env ?? process.env;
  const credentials: KompliantCredentials = checkCredentials(
    {
      apiKey: options.apiKey ?? env.KOMPLIANT_API_KEY,
      secretKey: options.secretKey ?? env.KOMPLIANT_SECRET_KEY,
      authToken: options.authToken ?? env.KOMPLIANT_AUTH_TOKEN,
    },
    'createKompliantClient (apiKey/secretKey/authToken or KOMPLIANT_API_KEY/KOMPLIANT_SECRET_KEY/KOMPLIANT_AUTH_TOKEN)',
  );
  const baseUrl = checkBaseUrl(options.baseUrl);
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'timeoutMs', DEFAULT_CLIENT_TIMEOUT_MS);
  const retries = checkNonNegativeInteger(options.retries, 'retries', DEFAULT_CLIENT_RETRIES);
  const retryDelayMs = checkPositiveInteger(options.retryDelayMs, 'retryDelayMs', DEFAULT_CLIENT_RETRY_DELAY_MS);
  const doFetch = checkFunction<typeof fetch>(options.fetch, 'fetch') ?? globalThis.fetch;
  // Signed once: the signature of the minimum form depends only on the credentials.
  const headers = { ...ksig1Headers(credentials), 'content-type': 'application/json', accept: 'application/json' };

  async function attempt(method: KeyApiMethod, body: string): Promise<ParsedAnswer> {
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}/${method}`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw timedOut
        ? apiError(method, 'TIMEOUT', `no answer within ${timeoutMs} ms`, { cause: error })
        : apiError(method, 'NETWORK_ERROR', 'the request failed before an answer arrived', { cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw apiError(method, 'NETWORK_ERROR', 'the answer was cut off', { httpStatus: response.status, cause: error });
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed };
  }

  async function call<T>(method: KeyApiMethod, payload: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify(payload);
    let answer: ParsedAnswer | undefined;
    for (let attemptNo = 0; ; attemptNo++) {
      let failure: KompliantApiError | undefined;
      try {
        answer = await attempt(method, body);
      } catch (error) {
        failure = error as KompliantApiError;
      }
      const retryable = failure !== undefined || (answer !== undefined && answer.status >= 500);
      if (!retryable || attemptNo >= retries) {
        if (failure !== undefined) throw failure;
        break;
      }
      await sleep(retryDelayMs * 2 ** attemptNo);
    }
    return interpret<T>(method, answer as ParsedAnswer);
  }



  return {
    baseUrl,
    // async: a bad argument rejects like every other failure instead of throwing synchronously.
    createKey: async (input) => call('webhook.key.create', { account_id: requireString(input?.accountId, 'accountId', 'createKey') }),
    activateKey: async (input) => call('webhook.key.activate', { key_id: requireString(input?.keyId, 'keyId', 'activateKey') }),
    getKey: async (input) => call('webhook.key.get', { key_id: requireString(input?.keyId, 'keyId', 'getKey') }),
    createConfig: async (input) =>
      call('webhook.config.create', {
        account_id: requireString(input?.accountId, 'accountId', 'createConfig'),
        config: { url: requireString(input?.url, 'url', 'createConfig') },
      }),
    getConfig: async (input) =>
      call('webhook.config.get', {
        account_id: requireString(input?.accountId, 'accountId', 'getConfig'),
        config_id: requireString(input?.configId, 'configId', 'getConfig'),
      }),
    listConfigs: async (input) => call('webhook.config.list', { account_id: requireString(input?.accountId, 'accountId', 'listConfigs') }),
    updateConfig: async (input) =>
      call('webhook.config.update', {
        account_id: requireString(input?.accountId, 'accountId', 'updateConfig'),
        config_id: requireString(input?.configId, 'configId', 'updateConfig'),
        config: { url: requireString(input?.url, 'url', 'updateConfig') },
      }),
    deleteConfig: async (input) =>
      call('webhook.config.delete', {
        account_id: requireString(input?.accountId, 'accountId', 'deleteConfig'),
        config_id: requireString(input?.configId, 'configId', 'deleteConfig'),
      }),
  };
}
