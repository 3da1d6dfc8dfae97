// The emulator's key API state machine: accounts, keys (INACTIVE, ACTIVE, DELETED), configs and the spec's rules.
import { randomBytes } from 'node:crypto';
import { DAILY_KEY_LIMIT_ALIAS, DAILY_LIMIT_EXCEEDED } from '../key-api/api-error.js';
import { ID_PATTERN, isValidKeyId } from '../wire/envelope.js';
import type {
  ActivatedWebhookKey,
  CreatedWebhookConfig,
  CreatedWebhookKey,
  KeyApiErrorEntry,
  WebhookKeyInfo,
  WebhookKeyStatus,
} from '../key-api/types.js';
import { generateSharedSecret, randomId } from '../sealing/seal.js';

/** Most keys that can be named per account per UTC day (`NN` is 01-99). */
export const MAX_KEYS_PER_DAY = 99;
/** Longest webhook URL accepted, in characters. */
export const MAX_CONFIG_URL_LENGTH = 2048;
/** Most webhook configs per account. */
export const MAX_CONFIGS_PER_ACCOUNT = 20;

/** A rule violation or bad request, answered as HTTP 400 with the error envelope. */
export class ApiRuleError extends Error {
  readonly entry: KeyApiErrorEntry;
  constructor(entry: KeyApiErrorEntry) {
    super(entry.message);
    this.name = 'ApiRuleError';
    this.entry = entry;
  }
}

interface KeyRecord {
  keyId: string;
  accountId: string;
  secret: string;
  status: WebhookKeyStatus;
  createdAt: string;
  activatedAt?: string;
  deletedAt?: string;
}

interface AccountRecord {
  accountId: string;
  keys: Map<string, KeyRecord>;
  keysPerDay: Map<string, number>;
  activeKeyId: string | undefined;
  configs: Map<string, { configId: string; url: string }>;
}

/** Settings of {@link ApiState}. */
export interface ApiStateOptions {
  /** The clock; key ids use its UTC date. Default `() => new Date()`. */
  now: () => Date;
  /** Accept `http://localhost`, `http://127.0.0.1` and `http://[::1]` config URLs. Default false. */
  allowHttpLocalhost: boolean;
  /** Which spelling the daily limit answers with. Default `'DAILY_LIMIT_EXCEEDED'`. */
  dailyLimitSubCode: typeof DAILY_LIMIT_EXCEEDED | typeof DAILY_KEY_LIMIT_ALIAS;
}

/** The active key of an account, as delivery needs it. */
export interface ActiveKey {
  keyId: string;
  secret: string;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function badRequest(message: string): ApiRuleError {
  return new ApiRuleError({ code: 'BAD_REQUEST', message });
}

function notFound(entityType: string, message: string): ApiRuleError {
  return new ApiRuleError({ code: 'ENTITY_NOT_FOUND', message, entity_type: entityType });
}

function ruleViolation(entityType: string, subCode: string, message: string): ApiRuleError {
  return new ApiRuleError({ code: 'SYSTEM_RULE_VIOLATION', message, entity_type: entityType, sub_code: subCode });
}

function ownField(body: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

/**
 * The key and config rules of spec section 5, synchronous so every method is atomic: an
 * activation moves the previous ACTIVE key to DELETED in the same step, so no request (and no
 * delivery) ever sees zero or two ACTIVE keys after a successful activation.
 */
export class ApiState {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly options: ApiStateOptions;

  constructor(options: ApiStateOptions) {
    this.options = options;
  }

  /** Adds an account (idempotent). */
  addAccount(accountId: string): void {
    if (!ID_PATTERN.test(accountId)) throw new TypeError('account ids must be 1-128 characters of [A-Za-z0-9_-]');
    if (this.accounts.has(accountId)) return;
    this.accounts.set(accountId, {
      accountId,
      keys: new Map(),
      keysPerDay: new Map(),
      activeKeyId: undefined,
      configs: new Map(),
    });
  }

  /** True when the account exists. */
  hasAccount(accountId: string): boolean {
    return this.accounts.has(accountId);
  }

  private timestamp(): string {
    return this.options.now().toISOString();
  }

  private account(body: Record<string, unknown>, allowed: ReadonlySet<string>): AccountRecord {
    const accountId = ownField(body, 'account_id');
    if (typeof accountId !== 'string' || !ID_PATTERN.test(accountId)) {
      throw badRequest('account_id is missing or malformed');
    }
    const account = this.accounts.get(accountId);
    if (account === undefined || !allowed.has(accountId)) throw notFound('Account', 'Account not found');
    return account;
  }

  private key(body: Record<string, unknown>, allowed: ReadonlySet<string>): KeyRecord {
    const keyId = ownField(body, 'key_id');
    if (typeof keyId !== 'string' || !isValidKeyId(keyId)) throw badRequest('key_id is missing or malformed');
    for (const accountId of allowed) {
      const record = this.accounts.get(accountId)?.keys.get(keyId);
      if (record !== undefined) return record;
    }
    throw notFound('Webhook Key', 'Webhook key not found');
  }

  /** `webhook.key.create` */
  createKey(body: Record<string, unknown>, allowed: ReadonlySet<string>): CreatedWebhookKey {
    const account = this.account(body, allowed);
    const now = this.timestamp();
    const day = now.slice(0, 10).replaceAll('-', '');
    const used = account.keysPerDay.get(day) ?? 0;
    if (used >= MAX_KEYS_PER_DAY) {
      throw ruleViolation('Webhook Key', this.options.dailyLimitSubCode, 'Daily webhook key limit reached for this account');
    }
    account.keysPerDay.set(day, used + 1);
    const keyId = `whk_${day}_${String(used + 1).padStart(2, '0')}`;
    const record: KeyRecord = { keyId, accountId: account.accountId, secret: generateSharedSecret(), status: 'INACTIVE', createdAt: now };
    account.keys.set(keyId, record);
    return { key_id: keyId, shared_secret: record.secret, status: 'INACTIVE', created_at: now };
  }

  /** `webhook.key.activate`: atomic swap of the account's ACTIVE key. */
  activateKey(body: Record<string, unknown>, allowed: ReadonlySet<string>): ActivatedWebhookKey {
    const record = this.key(body, allowed);
    if (record.status === 'ACTIVE') throw ruleViolation('Webhook Key', 'KEY_ALREADY_ACTIVE', 'Webhook key is already active');
    if (record.status === 'DELETED') throw ruleViolation('Webhook Key', 'KEY_DELETED', 'Webhook key is deleted');
    const account = this.accounts.get(record.accountId) as AccountRecord;
    const now = this.timestamp();
    const previous = account.activeKeyId === undefined ? undefined : account.keys.get(account.activeKeyId);
    if (previous !== undefined) {
      previous.status = 'DELETED';
      previous.deletedAt = now;
    }
    record.status = 'ACTIVE';
    record.activatedAt = now;
    account.activeKeyId = record.keyId;
    return { key_id: record.keyId, status: 'ACTIVE', activated_at: now };
  }

  /** `webhook.key.get`: never the secret. */
  getKey(body: Record<string, unknown>, allowed: ReadonlySet<string>): WebhookKeyInfo {
    const record = this.key(body, allowed);
    return {
      key_id: record.keyId,
      status: record.status,
      created_at: record.createdAt,
      ...(record.activatedAt === undefined ? {} : { activated_at: record.activatedAt }),
      ...(record.deletedAt === undefined ? {} : { deleted_at: record.deletedAt }),
    };
  }

  /** `webhook.config.create` */
  createConfig(body: Record<string, unknown>, allowed: ReadonlySet<string>): CreatedWebhookConfig {
    const account = this.account(body, allowed);
    const config = ownField(body, 'config');
    const rawUrl = typeof config === 'object' && config !== null ? ownField(config as Record<string, unknown>, 'url') : undefined;
    if (typeof rawUrl !== 'string' || rawUrl.length === 0) throw badRequest('config.url is missing');
    if (rawUrl.length > MAX_CONFIG_URL_LENGTH) throw badRequest(`config.url is longer than ${MAX_CONFIG_URL_LENGTH} characters`);
    // Checked on the text as given: the URL parser would forgive a leading space, an upper-case
    // scheme and a missing `//` (`https:example.com`), which the API documents as invalid.
    const localHttp = this.options.allowHttpLocalhost && rawUrl.startsWith('http://');
    if (!rawUrl.startsWith('https://') && !localHttp) throw badRequest('config.url must start with https://');
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw badRequest('config.url is not a valid URL');
    }
    if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) throw badRequest('config.url must start with https://');
    if (url.username !== '' || url.password !== '') throw badRequest('config.url must not carry credentials');
    for (const existing of account.configs.values()) {
      if (existing.url === url.href) {
        throw ruleViolation('Webhook Config', 'URL_ALREADY_EXISTS', 'This URL is already configured for the account');
      }
    }
    if (account.configs.size >= MAX_CONFIGS_PER_ACCOUNT) {
      throw ruleViolation('Webhook Config', 'MAX_WEBHOOK_URL_LIMIT', `At most ${MAX_CONFIGS_PER_ACCOUNT} webhook URLs per account`);
    }
    const configId = randomId('whc_');
    account.configs.set(configId, { configId, url: url.href });
    return { config_id: configId };
  }

  /** The account's ACTIVE key, read in one step (never between a DELETE and an ACTIVATE). */
  activeKey(accountId: string): ActiveKey | undefined {
    const account = this.accounts.get(accountId);
    if (account?.activeKeyId === undefined) return undefined;
    const record = account.keys.get(account.activeKeyId) as KeyRecord;
    return { keyId: record.keyId, secret: record.secret };
  }

  /** The configured webhook URLs of an account. */
  configUrls(accountId: string): string[] {
    return [...(this.accounts.get(accountId)?.configs.values() ?? [])].map((c) => c.url);
  }

  /** Key ids and statuses of an account, for inspection in tests. */
  keyStatuses(accountId: string): Array<{ keyId: string; status: WebhookKeyStatus }> {
    return [...(this.accounts.get(accountId)?.keys.values() ?? [])].map((k) => ({ keyId: k.keyId, status: k.status }));
  }
}

/** A fresh KSig1 secret key: base64 of 33 random bytes. */
export function generateSecretKey(): string {
  return randomBytes(33).toString('base64');
}
