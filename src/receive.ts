import { validateEnvelope } from './envelope.js';
import { WebhookError, isWebhookError } from './errors.js';
import type { KompliantEvent, PayloadV1 } from './event.js';
import type { KeyStore } from './key-store.js';
import { refetchAfterDecryptionFailure } from './key-stores/cache.js';
import { decryptEnvelope, toEnvelopeObject } from './open-envelope.js';
import {
  checkFunction,
  checkOptionNames,
  resolveReceiverOptions,
  type ReceiverOptions,
  type ResolvedReceiverOptions,
} from './options.js';
import type { SharedSecret } from './secret.js';

const RECEIVER_OPTION_NAMES = ['keyStore', 'aad', 'maxBodyBytes', 'onError', 'cache'] as const;

/** The framework-free pipeline. */
export interface WebhookReceiver {
  /**
   * Validates, resolves the key, decrypts and returns the event. `body` is the request body
   * as a JSON string, UTF-8 bytes, or an already parsed object. Rejects with `WebhookError`.
   */
  receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>>;
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

/**
 * Runs the whole pipeline on a body: size cap, JSON, envelope rules (key_id before anything
 * touches the key store), key lookup, AES-256-GCM with the AAD, strict UTF-8 JSON payload.
 * Shared by the receiver and every HTTP adapter; it never calls `onError`.
 */
export async function runPipeline<TData>(
  config: ResolvedReceiverOptions,
  body: unknown,
): Promise<KompliantEvent<TData>> {
  if (bodyBytes(body) > config.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
  const envelope = validateEnvelope(toEnvelopeObject(body));
  const keyId = envelope.metadata.key_id;
  const secret = await resolveSecret(config.keyStore, keyId);
  try {
    return decryptEnvelope<TData>(envelope, secret, config.aad);
  } catch (error) {
    if (!isWebhookError(error) || error.code !== 'DECRYPTION_FAILED') throw error;
    // The secret may have been corrected in the store since it was cached: one rate-limited
    // refetch (a no-op without the cache), then one more try only if the secret changed.
    const fresh = await refetchAfterDecryptionFailure(config.keyStore, keyId, secret);
    if (fresh === undefined) throw error;
    return decryptEnvelope<TData>(envelope, fresh, config.aad);
  }
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
 * ```
 */
export function createWebhookReceiver(options: ReceiverOptions): WebhookReceiver {
  const config = resolveReceiverOptions(options);
  checkOptionNames(options, RECEIVER_OPTION_NAMES, 'createWebhookReceiver');
  const onError = checkFunction<(error: WebhookError) => void>(options.onError, 'onError');
  return {
    async receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>> {
      try {
        return await runPipeline<TData>(config, body);
      } catch (error) {
        if (isWebhookError(error)) notifyError(onError, error);
        throw error;
      }
    },
  };
}
