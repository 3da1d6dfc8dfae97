import { validateEnvelope, type ValidatedEnvelope } from './envelope.js';
import { WebhookError, isWebhookError } from './errors.js';
import type { KompliantEvent, PayloadV1 } from './event.js';
import type { KeyStore } from './key-store.js';
import { peekCachedSecret, refetchAfterDecryptionFailure } from './key-stores/cache.js';
import { decryptEnvelope, toEnvelopeObject } from './open-envelope.js';
import {
  checkFunction,
  checkOptionNames,
  resolveReceiverOptions,
  type ReceiverOptions,
  type ResolvedReceiverOptions,
} from './options.js';
import type { SharedSecret } from './secret.js';
import {
  checkEventAge,
  claimDelivery,
  countingKeyStore,
  DELIVERY_OPTION_NAMES,
  reportDelivered,
  reportRejected,
  resolveDeliveryOptions,
  runClaimed,
  type DeliveryOptions,
} from './delivery.js';
import { countStat } from './stats.js';

const RECEIVER_OPTION_NAMES = ['keyStore', 'aad', 'maxBodyBytes', 'onError', 'cache', ...DELIVERY_OPTION_NAMES, 'layout'];

/** Options of {@link createWebhookReceiver}: the core options plus deduplication, timeouts, logs and counters. */
export interface WebhookReceiverOptions extends ReceiverOptions, DeliveryOptions {}

/** What {@link WebhookReceiver.handle} did with a delivery. */
export interface HandleResult<TData = PayloadV1> {
  /** The verified event. */
  event: KompliantEvent<TData>;
  /** True when the id was already handled: the handler was not called. Answer 200 anyway. */
  duplicate: boolean;
}

/** The framework-free pipeline. */
export interface WebhookReceiver {
  /**
   * Validates, resolves the key, decrypts and returns the event. `body` is the request body
   * as a JSON string, UTF-8 bytes, or an already parsed object. Rejects with `WebhookError`.
   */
  receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>>;
  /**
   * Receives `body` and runs `handler` on the event at most once per `id` (the `idempotency`
   * store, a memory store by default), within `handlerTimeoutMs`. Resolves when the handler
   * finished (answer 200) or the id was already done (`duplicate: true`, answer 200). Rejects
   * with a `WebhookError`: the pipeline's codes, 409 DUPLICATE_IN_PROGRESS, 500 HANDLER_FAILED
   * (claim released, the retry runs again), 503 HANDLER_TIMEOUT (claim kept until the handler
   * settles). Answer with `error.status`.
   */
  handle<TData = PayloadV1>(
    body: unknown,
    handler: (event: KompliantEvent<TData>) => unknown,
  ): Promise<HandleResult<TData>>;
}

async function resolveSecret(keyStore: KeyStore, keyId: string): Promise<SharedSecret> {
  let secret: unknown;
  try {
    secret = await keyStore.getSecret(keyId);
  } catch (cause) {
    if (isWebhookError(cause)) throw cause;
    throw new WebhookError('KEY_STORE_UNAVAILABLE', { cause });
  }
  if (secret === undefined || secret === null) throw new WebhookError('UNKNOWN_KEY');
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new WebhookError('INVALID_KEY');
  return secret;
}

function bodyBytes(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.length;
  return 0;
}

function isDecryptionFailure(error: unknown): error is WebhookError {
  return isWebhookError(error) && error.code === 'DECRYPTION_FAILED';
}

/**
 * After DECRYPTION_FAILED with `used`: the secret may have been corrected in the store since it
 * was cached, so one rate-limited refetch (a no-op without the cache), then one more try only if
 * the secret changed; otherwise the original `failure`.
 */
async function retryWithRefetchedSecret<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
  used: SharedSecret,
  failure: WebhookError,
): Promise<KompliantEvent<TData>> {
  const fresh = await refetchAfterDecryptionFailure(config.keyStore, envelope.metadata.key_id, used);
  if (fresh === undefined) throw failure;
  return decryptEnvelope<TData>(envelope, fresh, config.aad, config.layout);
}

/** Decrypts with `secret`, turning DECRYPTION_FAILED into the one refetch-and-retry. */
function decryptOrRetry<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
  secret: SharedSecret,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  try {
    return decryptEnvelope<TData>(envelope, secret, config.aad, config.layout);
  } catch (error) {
    if (!isDecryptionFailure(error)) throw error;
    return retryWithRefetchedSecret<TData>(config, envelope, secret, error);
  }
}

async function decryptWithStoredSecret<TData>(
  config: ResolvedReceiverOptions,
  envelope: ValidatedEnvelope,
): Promise<KompliantEvent<TData>> {
  const secret = await resolveSecret(config.keyStore, envelope.metadata.key_id);
  return decryptOrRetry<TData>(config, envelope, secret);
}

/**
 * Runs the whole pipeline on a body: size cap, JSON, envelope rules (key_id before anything
 * touches the key store), key lookup, AES-256-GCM with the AAD, strict UTF-8 JSON payload.
 * Shared by the receiver and every HTTP adapter; it never calls `onError`.
 *
 * The hot path allocates no promise: when the key id's secret is fresh in the key cache, the
 * event is returned as is, and a rejection found before any lookup is thrown. Otherwise the
 * result is a promise. Callers handle both (`result instanceof Promise ? await result : result`).
 */
export function runPipeline<TData>(
  config: ResolvedReceiverOptions,
  body: unknown,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  if (bodyBytes(body) > config.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
  const envelope = validateEnvelope(toEnvelopeObject(body));
  const cached = peekCachedSecret(config.keyStore, envelope.metadata.key_id);
  if (cached === undefined) return decryptWithStoredSecret<TData>(config, envelope);
  return decryptOrRetry<TData>(config, envelope, cached);
}

/** Calls a user's error hook, ignoring anything it throws. */
export function notifyError<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook(...args);
  } catch {
    // A broken logging hook must not change the answer.
  }
}

/**
 * Creates the framework-free receiver: the same pipeline as the middleware, with no HTTP,
 * for other frameworks, queue consumers and scripts. Options are checked here, once; a bad
 * option throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ whk_20251121_01: secret }) });
 * const event = await receiver.receive(message.body); // rejects with WebhookError
 *
 * // Or with deduplication by id and the handler timeout:
 * const { duplicate } = await receiver.handle(message.body, async (event) => save(event));
 * ```
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const plan = resolveDeliveryOptions(options);
  const config: ResolvedReceiverOptions = resolveReceiverOptions(options, (store) => countingKeyStore(store, plan));
  checkOptionNames(options, RECEIVER_OPTION_NAMES, 'createWebhookReceiver');
  const onError = checkFunction<(error: WebhookError) => void>(options.onError, 'onError');
  const rejected = (error: unknown): Promise<never> => {
    if (isWebhookError(error)) notifyError(onError, error);
    return Promise.reject(error);
  };
  return {
    async handle<TData = PayloadV1>(body: unknown, handler: (event: KompliantEvent<TData>) => unknown): Promise<HandleResult<TData>> {
      if (typeof handler !== 'function') throw new TypeError('handle: handler must be a function');
      const started = performance.now();
      countStat(plan.stats, 'received');
      let event: KompliantEvent<TData> | undefined;
      try {
        const opened = runPipeline<TData>(config, body);
        event = opened instanceof Promise ? await opened : opened;
        const verified = event;
        checkEventAge(plan, verified.timestamp);
        const claim = await claimDelivery(plan, verified.id);
        if (claim !== 'duplicate') await runClaimed(plan, claim, () => handler(verified));
        reportDelivered(plan, started, claim === 'duplicate' ? 'duplicate' : 'handled', verified);
        return { event: verified, duplicate: claim === 'duplicate' };
      } catch (error) {
        if (isWebhookError(error)) {
          reportRejected(plan, started, error, event);
          notifyError(onError, error);
        }
        throw error;
      }
    },
    receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>> {
      let opened: KompliantEvent<TData> | Promise<KompliantEvent<TData>>;
      try {
        opened = runPipeline<TData>(config, body);
      } catch (error) {
        return rejected(error);
      }
      return opened instanceof Promise ? opened.then(undefined, rejected) : Promise.resolve(opened);
    },
  };
}
