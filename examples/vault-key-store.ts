/**
 * Example: a key store for a secrets backend the library does not ship, HashiCorp Vault's
 * KV version 2 engine, over the built-in `fetch`. Copy it into your code and adapt it; the
 * rules it follows are in docs/key-stores.md, "Writing a key store".
 *
 * A module, not a program: import `vaultKeyStore` from it in your app, which you run as usual
 * (for a TypeScript app without a build step, `npx tsx your-app.ts`).
 */
import { requireValidSharedSecret, type KeyLookupContext, type KeyStore, type SharedSecret } from 'kompliant-webhooks';
import { isValidKeyId } from 'kompliant-webhooks/wire';

/** Options of {@link vaultKeyStore}. */
export interface VaultKeyStoreOptions {
  /** Vault's address, e.g. `https://vault.internal:8200`. */
  address: string;
  /** A Vault token, or a function returning the current one (for renewed tokens). */
  token: string | (() => string | Promise<string>);
  /** Mount path of the KV v2 engine. Default `'secret'`. */
  mount?: string;
  /** The secret's path for a key id. Default `` keyId => `kompliant/webhook/${keyId}` ``. */
  path?: (keyId: string, accountId: string) => string;
  /** Field of the secret's data holding the base64 shared secret. Default `'shared_secret'`. */
  field?: string;
  /** Vault Enterprise namespace, sent as `X-Vault-Namespace`. */
  namespace?: string;
  /** Deadline of one lookup. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Reads `GET {address}/v1/{mount}/data/{path}`: 200 -> the secret in `data.data[field]`;
 * 404 (no such secret, or its current version deleted) -> `undefined` (401 UNKNOWN_KEY);
 * anything else (403 bad token, 5xx, sealed Vault, network, timeout) -> rejects (503, the
 * sender retries). A malformed secret rejects with INVALID_KEY (500). Errors never carry the
 * token or the secret.
 *
 * @example
 * ```ts
 * const keyStore = vaultKeyStore({ address: process.env.VAULT_ADDR!, token: () => readFile('/vault/token', 'utf8') });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, onEvent }));
 * ```
 */
export function vaultKeyStore(options: VaultKeyStoreOptions): KeyStore {
  const address = new URL(options.address);
  if (address.protocol !== 'https:' && address.protocol !== 'http:') throw new TypeError('vaultKeyStore: address must be an http(s) URL');
  if (typeof options.token !== 'string' && typeof options.token !== 'function') throw new TypeError('vaultKeyStore: token is required');
  const mount = options.mount ?? 'secret';
  const path = options.path ?? ((keyId: string, _accountId: string) => `kompliant/webhook/${keyId}`);
  const field = options.field ?? 'shared_secret';
  const timeoutMs = options.timeoutMs ?? 5_000;

  return {
    async getSecret(keyId: string, context?: KeyLookupContext): Promise<SharedSecret | undefined> {
      // The key id and account id are attacker input: they go into a URL only in validated form
      // (the receiver checked both; a direct caller gets the same check here).
      if (!isValidKeyId(keyId)) return undefined;
      const accountId = context?.accountId ?? '';
      if (accountId !== '' && !/^[A-Za-z0-9_-]{1,128}$/.test(accountId)) return undefined;
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers: Record<string, string> = { 'x-vault-token': token.trim() };
      if (options.namespace !== undefined) headers['x-vault-namespace'] = options.namespace;
      const url = new URL(`v1/${mount}/data/${path(keyId, accountId)}`, address.href.endsWith('/') ? address : `${address.href}/`);
      // The receiver's signal (keyStoreTimeoutMs) and this store's own deadline, whichever ends first.
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = context?.signal === undefined ? deadline : AbortSignal.any([deadline, context.signal]);
      const response = await fetch(url, { headers, signal });
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) {
        await response.body?.cancel();
        // Status only: Vault's error text is not ours to forward, and the token is never included.
        throw new Error(`Vault answered HTTP ${response.status} for a webhook key lookup`);
      }
      const body = (await response.json()) as { data?: { data?: Record<string, unknown> } };
      const data = body.data?.data;
      const value = data !== undefined && data !== null && Object.hasOwn(data, field) ? data[field] : undefined;
      return requireValidSharedSecret(value);
    },
  };
}
