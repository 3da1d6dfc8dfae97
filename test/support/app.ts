import express from 'express';
import express4 from 'express4';
import { vi, type Mock } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type KompliantWebhookOptions, type KeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';

export const KEY_ID = 'whk_20251121_01';
export const SECRET = generateSharedSecret();
export const PATH = '/webhooks/kompliant';

/** A key store over one test key that counts its lookups. */
export function countingKeyStore(secrets: Record<string, string> = { [KEY_ID]: SECRET }): KeyStore & { calls: string[] } {
  const inner = memoryKeyStore(secrets);
  const calls: string[] = [];
  return {
    calls,
    getSecret(keyId) {
      calls.push(keyId);
      return inner.getSecret(keyId);
    },
  };
}

export type BodyParser = 'none' | 'json' | 'raw' | 'text';

/** An Express app (5 by default, or 4) with the middleware in onEvent mode behind an optional body parser. */
export function createTestApp(
  options: Partial<KompliantWebhookOptions> & { parser?: BodyParser; major?: 4 | 5 } = {},
) {
  const { parser = 'none', major = 5, ...rest } = options;
  const onEvent: Mock = (rest.onEvent as Mock | undefined) ?? vi.fn();
  const e = (major === 4 ? express4 : express) as typeof express;
  const app = e();
  if (parser === 'json') app.use(e.json());
  if (parser === 'raw') app.use(e.raw({ type: '*/*' }));
  if (parser === 'text') app.use(e.text({ type: '*/*' }));
  app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), ...rest, onEvent }));
  return { app, onEvent };
}
