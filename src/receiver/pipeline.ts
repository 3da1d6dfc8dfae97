// The pipeline every entry point runs on a body: size cap, JSON, envelope rules, key lookup, AES-256-GCM, payload.
import { validateEnvelope, type ValidatedEnvelope } from '../wire/envelope.js';
import { WebhookError, isWebhookError } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import type { KeyStore } from '../key-stores/key-store.js';
import { peekCachedSecret, refetchAfterDecryptionFailure } from '../key-stores/cache.js';
import { decryptEnvelope, toEnvelopeObject } from '../wire/open-envelope.js';
import type { ResolvedReceiverOptions } from './options.js';
import type { SharedSecret } from '../wire/secret.js';
import { tagRejection } from './rejected-envelope.js';

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
 * A rejection after the envelope rules passed is tagged with the envelope's metadata
 * (`rejectedEnvelope(error)`), for the log line.
 */
export function runPipeline<TData>(
  config: ResolvedReceiverOptions,
  body: unknown,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  if (bodyBytes(body) > config.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
  const envelope = validateEnvelope(toEnvelopeObject(body));
  const tag = (error: unknown): never => {
    throw tagRejection(error, envelope.metadata);
  };
  try {
    const cached = peekCachedSecret(config.keyStore, envelope.metadata.key_id);
    if (cached === undefined) return decryptWithStoredSecret<TData>(config, envelope).catch(tag);
    const opened = decryptOrRetry<TData>(config, envelope, cached);
    return opened instanceof Promise ? opened.catch(tag) : opened;
  } catch (error) {
    return tag(error);
  }
}
