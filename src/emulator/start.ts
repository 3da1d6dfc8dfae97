// A local Kompliant for development and tests: the key management API with the rules of the spec (section 5), KSig1 verification of every call, and webhook delivery with retries.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DAILY_KEY_LIMIT_ALIAS, DAILY_LIMIT_EXCEEDED } from '../key-api/api-error.js';
import { checkLayoutOption, type DataLayoutName } from '../wire/data-layout.js';
import { ID_PATTERN } from '../wire/envelope.js';
import type { WebhookKeyStatus } from '../key-api/types.js';
import { checkCredentials } from '../key-api/ksig.js';
import { checkFunction, checkNonNegativeInteger, checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { randomId } from '../sealing/seal.js';
import { ApiState, generateSecretKey } from './api-state.js';
import { createApiServer, type EmulatorCredential, type InjectedFault } from './api-server.js';
import { DeliveryQueue, type DeliveryRecord, type EmittedEvent } from './sender.js';

/** One seeded account and the API credentials that manage it. */
export interface EmulatorAccount {
  accountId: string;
  apiKey: string;
  /** Base64 of 33 bytes. */
  secretKey: string;
  authToken: string;
}

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Seeded accounts. Default: those of `seedFile`, else one generated sandbox account. */
  accounts?: EmulatorAccount[];
  /**
   * A JSON file `{"accounts": [{"account_id", "api_key", "secret_key", "auth_token"}]}` with
   * seeded accounts (used when `accounts` is not given).
   */
  seedFile?: string;
  /** Accept `http://localhost` / `127.0.0.1` / `[::1]` webhook URLs (local receivers). Default false. */
  allowHttpLocalhost?: boolean;
  /** Multiplies every delivery delay: 0.001 turns seconds into milliseconds. Default 1. */
  timeScale?: number;
  /** Per-attempt delivery timeout in milliseconds. Default 30 000 times `timeScale`. */
  attemptTimeoutMs?: number;
  /** Retries after the first delivery attempt. Default 95. */
  maxRetries?: number;
  /** Delay before the first retry at time scale 1, doubled per retry. Default 1 000 ms. */
  retryBaseDelayMs?: number;
  /** Longest delay between attempts at time scale 1. Default 3 600 000 ms (1 h). */
  retryMaxDelayMs?: number;
  /** The clock for key ids and timestamps. Default `() => new Date()`. */
  now?: () => Date;
  /** The daily-limit sub code to answer with. Default `'DAILY_LIMIT_EXCEEDED'`. */
  dailyLimitSubCode?: 'DAILY_LIMIT_EXCEEDED' | 'DAILY_KEY_LIMIT';
  /**
   * The byte order of `data` in the webhooks it sends, to rehearse a receiver configured with
   * the same `layout` option. Default `'nonce-ciphertext-tag'` (the spec's).
   */
  layout?: DataLayoutName;
}

/** A running emulator. */
export interface KompliantEmulator {
  /** Base URL for the client, e.g. `http://127.0.0.1:53124`. */
  readonly url: string;
  readonly port: number;
  /** The seeded accounts with their credentials (local, emulator-only values). */
  readonly accounts: readonly EmulatorAccount[];
  /** Encrypts an event with the account's ACTIVE key and delivers it to every configured URL. */
  emit(input: { accountId: string; eventType: string; data: Record<string, unknown> }): EmittedEvent;
  /** The delivery log (attempts, statuses), oldest first. */
  deliveries(filter?: { eventId?: string; accountId?: string }): DeliveryRecord[];
  /** Resolves when no delivery is pending. */
  idle(): Promise<void>;
  /** The account's ACTIVE key id, if any. */
  activeKeyId(accountId: string): string | undefined;
  /** Every key of the account with its status. */
  keys(accountId: string): Array<{ keyId: string; status: WebhookKeyStatus }>;
  /** Makes the next call(s) of a method answer an error status (default 500). */
  injectFault(fault: InjectedFault): void;
  /** Delay before retry number `retry` (1-based), in real milliseconds. */
  retryDelayMs(retry: number): number;
  /** Stops deliveries and the server. */
  close(): Promise<void>;
}

const OPTION_NAMES = [
  'host', 'port', 'accounts', 'seedFile', 'allowHttpLocalhost', 'timeScale', 'attemptTimeoutMs',
  'maxRetries', 'retryBaseDelayMs', 'retryMaxDelayMs', 'now', 'dailyLimitSubCode', 'layout',
];

function readSeedFile(path: string): EmulatorAccount[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new TypeError('seedFile must be a readable JSON file');
  }
  const list = (parsed as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(list)) throw new TypeError('seedFile must hold {"accounts": [...]}');
  return list.map((entry: Record<string, unknown>) => ({
    accountId: entry.account_id as string,
    apiKey: entry.api_key as string,
    secretKey: entry.secret_key as string,
    authToken: entry.auth_token as string,
  }));
}

/** A fresh sandbox account with generated credentials. */
export function generateEmulatorAccount(): EmulatorAccount {
  return { accountId: randomId('sb_'), apiKey: randomId('sb_'), secretKey: generateSecretKey(), authToken: randomId('tok_') };
}

/**
 * Starts a local emulator of Kompliant's key API and webhook delivery.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'kompliant-webhooks/emulator';
 * import { createKompliantClient } from 'kompliant-webhooks/client';
 *
 * const emulator = await startEmulator({ allowHttpLocalhost: true, timeScale: 0.001 });
 * const [account] = emulator.accounts;
 * const client = createKompliantClient({
 *   baseUrl: emulator.url,
 *   apiKey: account.apiKey,
 *   secretKey: account.secretKey,
 *   authToken: account.authToken,
 * });
 * const key = await client.createKey({ accountId: account.accountId });
 * await client.activateKey({ keyId: key.key_id });
 * await client.createConfig({ accountId: account.accountId, url: 'http://localhost:3000/webhooks/kompliant' });
 * emulator.emit({ accountId: account.accountId, eventType: 'WORKFLOW_COMPLETED', data: { version: '1.0' } });
 * await emulator.idle();
 * await emulator.close();
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<KompliantEmulator> {
  if (typeof options !== 'object' || options === null) throw new TypeError('startEmulator: options must be an object');
  checkOptionNames(options, OPTION_NAMES, 'startEmulator');
  const timeScale = options.timeScale ?? 1;
  if (typeof timeScale !== 'number' || !(timeScale > 0) || !Number.isFinite(timeScale)) throw new TypeError('timeScale must be a positive number');
  const now = checkFunction<() => Date>(options.now, 'now') ?? (() => new Date());
  const subCode = options.dailyLimitSubCode ?? DAILY_LIMIT_EXCEEDED;
  if (subCode !== DAILY_LIMIT_EXCEEDED && subCode !== DAILY_KEY_LIMIT_ALIAS) throw new TypeError('dailyLimitSubCode must be DAILY_LIMIT_EXCEEDED or DAILY_KEY_LIMIT');
  const seeded = options.accounts ?? (options.seedFile === undefined ? [generateEmulatorAccount()] : readSeedFile(options.seedFile));
  if (!Array.isArray(seeded) || seeded.length === 0) throw new TypeError('accounts must be a non-empty array');

  const state = new ApiState({ now, allowHttpLocalhost: options.allowHttpLocalhost === true, dailyLimitSubCode: subCode });
  const credentials = new Map<string, EmulatorCredential>();
  const accounts: EmulatorAccount[] = [];
  for (const [index, account] of seeded.entries()) {
    if (typeof account?.accountId !== 'string' || !ID_PATTERN.test(account.accountId)) throw new TypeError(`accounts[${index}].accountId is malformed`);
    const checked = checkCredentials(account, `accounts[${index}]`);
    state.addAccount(account.accountId);
    const existing = credentials.get(checked.apiKey);
    if (existing !== undefined) {
      if (existing.secretKey !== checked.secretKey || existing.authToken !== checked.authToken) {
        throw new TypeError(`accounts[${index}]: the same apiKey is seeded with different secrets`);
      }
      existing.accountIds.push(account.accountId);
    } else {
      credentials.set(checked.apiKey, { ...checked, accountIds: [account.accountId] });
    }
    accounts.push({ accountId: account.accountId, ...checked });
  }

  const queue = new DeliveryQueue(state, {
    now,
    timeScale,
    attemptTimeoutMs: checkPositiveInteger(options.attemptTimeoutMs, 'attemptTimeoutMs', Math.max(1, Math.round(30_000 * timeScale))),
    maxRetries: checkNonNegativeInteger(options.maxRetries, 'maxRetries', 95),
    retryBaseDelayMs: checkPositiveInteger(options.retryBaseDelayMs, 'retryBaseDelayMs', 1_000),
    retryMaxDelayMs: checkPositiveInteger(options.retryMaxDelayMs, 'retryMaxDelayMs', 3_600_000),
    layout: checkLayoutOption(options.layout),
  });
  const { server, injectFault } = createApiServer(state, queue, [...credentials.values()]);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(checkNonNegativeInteger(options.port, 'port', 0), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    accounts,
    emit: (input) => queue.emit(input),
    deliveries: (filter) => queue.log(filter),
    idle: () => queue.idle(),
    activeKeyId: (accountId) => state.activeKey(accountId)?.keyId,
    keys: (accountId) => state.keyStatuses(accountId),
    injectFault,
    retryDelayMs: (retry) => queue.retryDelayMs(retry),
    close: async () => {
      queue.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
