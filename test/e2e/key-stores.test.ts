import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vaultKeyStore } from '../../examples/vault-key-store.js';
import { awsSecretsManagerKeyStore } from '../../src/aws.js';
import {
  chainKeyStores,
  envKeyStore,
  kompliantWebhook,
  memoryKeyStore,
  type KeyStore,
  type KompliantEvent,
} from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.js';
import { BAD_SECRET, KEY_A, KEY_B } from '../key-stores/contract.js';

let sm: FakeSecretsManager;
let vault: Server;
let vaultAddress = '';
const vaultData = new Map<string, string>();

beforeAll(async () => {
  sm = await startFakeSecretsManager();
  vault = createServer((req, res) => {
    const secret = vaultData.get(req.url ?? '');
    res.writeHead(secret === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(secret === undefined ? { errors: [] } : { data: { data: { shared_secret: secret } } }));
  });
  await new Promise<void>((resolve) => vault.listen(0, '127.0.0.1', resolve));
  vaultAddress = `http://127.0.0.1:${(vault.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sm.close();
  vault.closeAllConnections();
  await new Promise<void>((resolve) => vault.close(() => resolve()));
});
beforeEach(() => {
  sm.calls.length = 0;
  sm.secrets.clear();
  sm.failAll = undefined;
  vaultData.clear();
});

/**
 * An envKeyStore holding `secret` under KEY_A and BAD_SECRET under KEY_B, set after construction
 * (its start-up check refuses a bad secret; a variable changed later is found at lookup).
 */
function envStoreTurningBad(secret: string): KeyStore {
  const env: Record<string, string> = { KOMPLIANT_WEBHOOK_SECRET_20251121_01: secret };
  const store = envKeyStore({ env });
  env.KOMPLIANT_WEBHOOK_SECRET_20251121_02 = BAD_SECRET;
  return store;
}

/** Each store holding `secret` under KEY_A (and BAD_SECRET under KEY_B). */
const stores: [string, (secret: string) => KeyStore][] = [
  ['memoryKeyStore', (secret) => memoryKeyStore({ [KEY_A]: secret })],
  [
    'envKeyStore',
    (secret) => envStoreTurningBad(secret),
  ],
  [
    'awsSecretsManagerKeyStore',
    (secret) => {
      sm.secrets.set(`kompliant/webhook/${KEY_A}`, { SecretString: JSON.stringify({ shared_secret: secret }) });
      sm.secrets.set(`kompliant/webhook/${KEY_B}`, { SecretString: BAD_SECRET });
      return awsSecretsManagerKeyStore({ client: sm.client() });
    },
  ],
  [
    'awsSecretsManagerKeyStore (bundle)',
    (secret) => {
      sm.secrets.set('bundle', { SecretString: JSON.stringify({ [KEY_A]: secret, [KEY_B]: BAD_SECRET }) });
      return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'bundle' });
    },
  ],
  [
    'chainKeyStores',
    (secret) => chainKeyStores(memoryKeyStore({}), envStoreTurningBad(secret)),
  ],
  [
    'examples/vault-key-store.ts',
    (secret) => {
      vaultData.set(`/v1/secret/data/kompliant/webhook/${KEY_A}`, secret);
      vaultData.set(`/v1/secret/data/kompliant/webhook/${KEY_B}`, BAD_SECRET);
      return vaultKeyStore({ address: vaultAddress, token: 't' });
    },
  ],
];

function app(keyStore: KeyStore, received: KompliantEvent[]) {
  const server = express();
  server.post('/webhooks/kompliant', kompliantWebhook({ keyStore, onEvent: (event) => void received.push(event) }));
  return server;
}

describe.each(stores)('the Express middleware over HTTP with %s (default cache)', (_name, build) => {
  it('200 for a webhook encrypted with the stored secret, 401 UNKNOWN_KEY for another key id', async () => {
    const secret = generateSharedSecret();
    const received: KompliantEvent[] = [];
    const server = app(build(secret), received);
    await request(server).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId: KEY_A })).expect(200, { received: true });
    const unknown = await request(server).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId: 'whk_20251121_77' }));
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('UNKNOWN_KEY');
    expect(received).toHaveLength(1);
  });

  it('500 INVALID_KEY for a malformed stored secret, which never appears in the response', async () => {
    const secret = generateSharedSecret();
    const res = await request(app(build(secret), [])).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId: KEY_B }));
    if (_name === 'memoryKeyStore') {
      expect(res.status).toBe(401); // memoryKeyStore refuses bad secrets at construction, so it holds no KEY_B
      return;
    }
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INVALID_KEY');
    expect(res.text).not.toContain(BAD_SECRET);
  });
});

describe('a Secrets Manager outage as the sender sees it', () => {
  it('503 KEY_STORE_UNAVAILABLE for a key not cached yet; 200 once the store is back (retry succeeds)', async () => {
    const secret = generateSharedSecret();
    sm.secrets.set(`kompliant/webhook/${KEY_A}`, { SecretString: secret });
    sm.failAll = { type: 'ThrottlingException', message: 'Rate exceeded' };
    const received: KompliantEvent[] = [];
    const server = app(awsSecretsManagerKeyStore({ client: sm.client() }), received);
    const envelope = createTestWebhook({ secret, keyId: KEY_A });
    const first = await request(server).post('/webhooks/kompliant').send(envelope);
    expect(first.status).toBe(503);
    expect(first.body).toEqual({ error: { code: 'KEY_STORE_UNAVAILABLE', message: 'Key store unavailable' } });
    sm.failAll = undefined;
    await request(server).post('/webhooks/kompliant').send({ ...envelope, retry_count: 1 }).expect(200);
    expect(received.map((e) => e.id)).toEqual([envelope.id]);
  });

  it('cached keys keep working during the outage (no store call needed)', async () => {
    const secret = generateSharedSecret();
    sm.secrets.set(`kompliant/webhook/${KEY_A}`, { SecretString: secret });
    const server = app(awsSecretsManagerKeyStore({ client: sm.client() }), []);
    await request(server).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId: KEY_A })).expect(200);
    sm.failAll = { type: 'InternalServiceError', message: 'down', status: 500 };
    for (let i = 0; i < 5; i++) await request(server).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId: KEY_A })).expect(200);
    expect(sm.calls).toHaveLength(1);
  });
});
