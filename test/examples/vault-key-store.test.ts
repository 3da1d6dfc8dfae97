import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vaultKeyStore } from '../../examples/vault-key-store.js';
import { generateSharedSecret } from '../../src/testing.js';
import { BAD_SECRET, KEY_A, keyStoreContract } from '../key-stores/contract.js';

const TOKEN = 'hvs.test-token';

/** A local stand-in for Vault's KV v2 read endpoint. */
let server: Server;
let address = '';
const data = new Map<string, Record<string, unknown>>();
const requests: string[] = [];
let status: number | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (status !== undefined) return send(status, { errors: ['Vault is sealed'] });
    if (req.headers['x-vault-token'] !== TOKEN) return send(403, { errors: ['permission denied'] });
    const match = /^\/v1\/secret\/data\/(.+)$/.exec(req.url ?? '');
    const found = match ? data.get(match[1]!) : undefined;
    if (found === undefined) return send(404, { errors: [] });
    return send(200, { data: { data: found, metadata: { version: 1 } } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  data.clear();
  requests.length = 0;
  status = undefined;
});

const holding = (secrets: Record<string, string>) => {
  for (const [keyId, secret] of Object.entries(secrets)) data.set(`kompliant/webhook/${keyId}`, { shared_secret: secret });
  return vaultKeyStore({ address, token: TOKEN });
};

keyStoreContract('examples/vault-key-store.ts (Vault KV v2 over fetch)', {
  holding,
  failing: () => {
    status = 503;
    return vaultKeyStore({ address, token: TOKEN });
  },
  holdingBadSecret: () => holding({ [KEY_A]: BAD_SECRET }),
  holdingAccounts: (secrets) => {
    for (const [account, keys] of Object.entries(secrets)) {
      for (const [keyId, secret] of Object.entries(keys)) data.set(`kompliant/webhook/${account}/${keyId}`, { shared_secret: secret });
    }
    return vaultKeyStore({ address, token: TOKEN, path: (keyId, accountId) => `kompliant/webhook/${accountId}/${keyId}` });
  },
});

describe('examples/vault-key-store.ts', () => {
  it('a wrong token rejects, and the error names neither token', async () => {
    data.set(`kompliant/webhook/${KEY_A}`, { shared_secret: generateSharedSecret() });
    const error = await vaultKeyStore({ address, token: 'hvs.wrong' }).getSecret(KEY_A).catch((e: unknown) => e);
    expect((error as Error).message).toBe('Vault answered HTTP 403 for a webhook key lookup');
  });

  it('asks for the validated key id only, never for a malformed one', async () => {
    const store = holding({});
    await expect(store.getSecret('../../sys/raw')).resolves.toBeUndefined();
    await store.getSecret(KEY_A);
    expect(requests).toEqual([`/v1/secret/data/kompliant/webhook/${KEY_A}`]);
  });

  it('takes the token from a function at each lookup', async () => {
    const secret = generateSharedSecret();
    data.set(`kompliant/webhook/${KEY_A}`, { shared_secret: secret });
    await expect(vaultKeyStore({ address, token: async () => `${TOKEN}\n` }).getSecret(KEY_A)).resolves.toBe(secret);
  });
});
