// The emulator's sending side: seals events with the active key and delivers them with retries, recording each attempt.
import type { DataLayoutName } from '../wire/data-layout.js';
import { EVENT_TYPE_PATTERN, ID_PATTERN } from '../wire/envelope.js';
import type { EnvelopeMetadata, KompliantEnvelope } from '../wire/event.js';
import { randomId, sealEnvelope } from '../sealing/seal.js';
import type { ApiState } from './api-state.js';

/** One POST of a delivery. */
export interface DeliveryAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** The `retry_count` sent: `attempt - 1`. */
  retryCount: number;
  /** When the attempt started (emulator clock, ISO 8601). */
  at: string;
  /** The receiver's HTTP status, when it answered in time. */
  status?: number;
  /** Why no status: `'timeout'` (no answer in time) or `'network'`. */
  error?: 'timeout' | 'network';
}

/** One event on its way to one configured URL. */
export interface DeliveryRecord {
  deliveryId: string;
  eventId: string;
  accountId: string;
  eventType: string;
  keyId: string;
  url: string;
  /** `pending` while attempts remain, `delivered` after a 200, `failed` once retries ran out. */
  state: 'pending' | 'delivered' | 'failed' | 'stopped';
  attempts: DeliveryAttempt[];
}

/** Delivery timing; real Kompliant values at time scale 1. */
export interface DeliverySettings {
  now: () => Date;
  /** Multiplies every delay (backoff and the default attempt timeout). 1 = real time. */
  timeScale: number;
  /** How long one attempt may take before it counts as failed, in real milliseconds. */
  attemptTimeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Delay before the first retry at time scale 1, doubled per retry. */
  retryBaseDelayMs: number;
  /** Longest delay between two attempts at time scale 1. */
  retryMaxDelayMs: number;
  /** The byte order of `data` in sent envelopes (the spec's by default). */
  layout: DataLayoutName;
}

/** What {@link DeliveryQueue.emit} returns. */
export interface EmittedEvent {
  eventId: string;
  keyId: string;
  /** The envelope as first sent (`retry_count` 0). */
  envelope: KompliantEnvelope;
  deliveries: DeliveryRecord[];
}

/** Raised for an emit that cannot be encrypted or addressed. */
export class EmitError extends Error {
  readonly code: 'BAD_REQUEST' | 'ENTITY_NOT_FOUND' | 'NO_ACTIVE_KEY';
  constructor(code: EmitError['code'], message: string) {
    super(message);
    this.name = 'EmitError';
    this.code = code;
  }
}

/**
 * Encrypts events with the account's ACTIVE key (the library's own `sealData` and default AAD)
 * and POSTs them to every configured URL, retrying non-200 answers and timeouts with
 * exponential backoff. Every retry re-sends the same id and ciphertext with `retry_count + 1`.
 */
export class DeliveryQueue {
  private readonly records: DeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private readonly waiters: Array<() => void> = [];
  private pending = 0;
  private closed = false;

  constructor(
    private readonly state: ApiState,
    private readonly settings: DeliverySettings,
  ) {}

  /** Encrypts one event and starts its deliveries. */
  emit(input: { accountId: string; eventType: string; data: unknown }): EmittedEvent {
    if (this.closed) throw new EmitError('BAD_REQUEST', 'the emulator is closed');
    const { accountId, eventType, data } = input;
    if (typeof accountId !== 'string' || !ID_PATTERN.test(accountId)) throw new EmitError('BAD_REQUEST', 'account_id is missing or malformed');
    if (typeof eventType !== 'string' || !EVENT_TYPE_PATTERN.test(eventType)) throw new EmitError('BAD_REQUEST', 'event_type is missing or malformed');
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new EmitError('BAD_REQUEST', 'data must be a JSON object');
    if (!this.state.hasAccount(accountId)) throw new EmitError('ENTITY_NOT_FOUND', 'Account not found');
    const key = this.state.activeKey(accountId);
    if (key === undefined) throw new EmitError('NO_ACTIVE_KEY', 'the account has no ACTIVE webhook key');
    const metadata: EnvelopeMetadata = {
      id: randomId('wh_'),
      event_type: eventType,
      timestamp: this.settings.now().toISOString(),
      account_id: accountId,
      schema_version: '2025-11-21',
      key_id: key.keyId,
    };
    const envelope = sealEnvelope(metadata, data, key.secret, { layout: this.settings.layout });
    const deliveries = this.state.configUrls(accountId).map((url) => {
      const record: DeliveryRecord = {
        deliveryId: randomId('dlv_'),
        eventId: metadata.id,
        accountId,
        eventType,
        keyId: key.keyId,
        url,
        state: 'pending',
        attempts: [],
      };
      this.records.push(record);
      this.pending++;
      void this.attempt(record, envelope);
      return record;
    });
    return { eventId: metadata.id, keyId: key.keyId, envelope, deliveries };
  }

  /** The delivery log, oldest first, optionally filtered. */
  log(filter: { eventId?: string; accountId?: string } = {}): DeliveryRecord[] {
    return this.records.filter(
      (r) => (filter.eventId === undefined || r.eventId === filter.eventId) && (filter.accountId === undefined || r.accountId === filter.accountId),
    );
  }

  /** Resolves once no delivery is pending (all delivered, failed or stopped). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops all retries and aborts attempts in flight; pending deliveries become `stopped`. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    for (const record of this.records) {
      if (record.state === 'pending') this.finish(record, 'stopped');
    }
  }

  /** Delay before retry number `retry` (1-based), in real milliseconds. */
  retryDelayMs(retry: number): number {
    const { retryBaseDelayMs, retryMaxDelayMs, timeScale } = this.settings;
    return Math.min(retryBaseDelayMs * 2 ** (retry - 1), retryMaxDelayMs) * timeScale;
  }

  private finish(record: DeliveryRecord, state: DeliveryRecord['state']): void {
    if (record.state !== 'pending') return;
    record.state = state;
    this.pending--;
    if (this.pending === 0) for (const resolve of this.waiters.splice(0)) resolve();
  }

  private async attempt(record: DeliveryRecord, envelope: KompliantEnvelope): Promise<void> {
    if (this.closed || record.state !== 'pending') return;
    const retryCount = record.attempts.length;
    const attempt: DeliveryAttempt = { attempt: retryCount + 1, retryCount, at: this.settings.now().toISOString() };
    record.attempts.push(attempt);
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.settings.attemptTimeoutMs);
    try {
      const response = await fetch(record.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'kompliant-webhooks-emulator' },
        body: JSON.stringify({ ...envelope, retry_count: retryCount }),
        signal: controller.signal,
        redirect: 'manual',
      });
      attempt.status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch {
      attempt.error = controller.signal.aborted ? 'timeout' : 'network';
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    if (this.closed) return;
    if (attempt.status === 200) {
      this.finish(record, 'delivered');
      return;
    }
    if (retryCount >= this.settings.maxRetries) {
      this.finish(record, 'failed');
      return;
    }
    const retryTimer = setTimeout(() => {
      this.timers.delete(retryTimer);
      void this.attempt(record, envelope);
    }, this.retryDelayMs(retryCount + 1));
    this.timers.add(retryTimer);
  }
}
