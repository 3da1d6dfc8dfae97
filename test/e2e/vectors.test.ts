import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { WebhookError, kompliantWebhook, memoryKeyStore, type KeyStore } from '../../src/index.js';
import { decryptData } from '../../src/wire.js';
import { loadEnvelopeVectors, loadWycheproofKompliantProfile } from '../support/vectors.js';
import {
  expressDriver,
  fastifyDriver,
  fastifyPassDriver,
  fetchDriver,
  honoDriver,
  lambdaDriver,
  restApiWithClientCasing,
} from '../support/adapter-drivers.js';
import { functionUrlEvent, httpApiEvent } from '../support/lambda-events.js';

const vectors = loadEnvelopeVectors();

describe('test/fixtures/vectors/envelopes.json through the middleware over HTTP', () => {
  it('has cases to run', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(14);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s', async (_name, vector) => {
    const onEvent = vi.fn();
    const app = express();
    app.post('/webhooks/kompliant', kompliantWebhook({ keyStore: memoryKeyStore(vectors.keys), onEvent }));
    const res = await request(app)
      .post('/webhooks/kompliant')
      .set('content-type', 'application/json')
      .send(vector.body);
    expect(res.status).toBe(vector.expect.status);
    if (vector.expect.status === 200) {
      expect(res.body).toEqual({ received: true });
      expect(onEvent).toHaveBeenCalledTimes(1);
      expect(onEvent.mock.calls[0]?.[0]).toStrictEqual(vector.expect.event);
    } else {
      expect(res.body.error.code).toBe(vector.expect.code);
      expect(onEvent).not.toHaveBeenCalled();
    }
  });
});

describe('the vectors back to back through every adapter, each case from its own account, with a remote key store', () => {
  const drivers = [
    expressDriver,
    fetchDriver,
    honoDriver,
    fastifyDriver,
    fastifyPassDriver,
    lambdaDriver('Lambda: API Gateway REST (v1)', restApiWithClientCasing),
    lambdaDriver('Lambda: HTTP API (v2)', httpApiEvent),
    lambdaDriver('Lambda: Function URL, base64 body', functionUrlEvent, true),
  ];

  it('has one account per case', () => {
    const accounts = vectors.cases.flatMap((c) => {
      let body: { account_id?: unknown; key_id?: unknown };
      try {
        body = JSON.parse(c.body) as typeof body;
      } catch {
        return [];
      }
      return typeof body.account_id === 'string' && /^whk_[0-9]{8}_[0-9]{2}$/.test(String(body.key_id)) ? [body.account_id] : [];
    });
    expect(accounts.length).toBeGreaterThanOrEqual(10);
    expect(new Set(accounts).size).toBe(accounts.length);
  });

  it.each(drivers.map((d) => [d.name, d] as const))('%s: every case answers as the vectors say, one store call per account', async (_name, driver) => {
    const local = memoryKeyStore(vectors.keys);
    const calls: string[] = [];
    // A store that calls a service (no inProcess): the cache budgets its lookups.
    const remote: KeyStore = {
      getSecret(keyId, context) {
        calls.push(`${context?.accountId} ${keyId}`);
        return local.getSecret(keyId, context);
      },
    };
    const events: unknown[] = [];
    const send = await driver.create({ keyStore: remote, onEvent: (event) => void events.push(event), onError: () => undefined });
    const statuses: string[] = [];
    for (const vector of vectors.cases) {
      const res = await send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: vector.body });
      statuses.push(`${vector.name}: ${res.status} ${(res.body as { error?: { code?: string } }).error?.code ?? ''}`.trim());
    }
    expect(statuses).toEqual(vectors.cases.map((c) => `${c.name}: ${c.expect.status} ${c.expect.code ?? ''}`.trim()));
    expect(events).toEqual(vectors.cases.filter((c) => c.expect.status === 200).map((c) => c.expect.event));
    expect(new Set(calls).size).toBe(calls.length);
  });
});

const wycheproof = loadWycheproofKompliantProfile();

describe('Wycheproof AES-GCM (256-bit key, 96-bit IV, 128-bit tag) through decryptData', () => {
  it('covers the whole profile: 66 tests, 39 valid, 27 invalid', () => {
    expect(wycheproof).toHaveLength(66);
    expect(wycheproof.filter((t) => t.result === 'valid')).toHaveLength(39);
    expect(wycheproof.filter((t) => t.result === 'invalid')).toHaveLength(27);
  });

  it.each(wycheproof.map((t) => [t.tcId, t.result, t.comment, t] as const))(
    'tcId %i (%s) %s',
    (_id, result, _comment, t) => {
      const key = Buffer.from(t.key, 'hex');
      const data = Buffer.concat([Buffer.from(t.iv, 'hex'), Buffer.from(t.ct, 'hex'), Buffer.from(t.tag, 'hex')]);
      const aad = Buffer.from(t.aad, 'hex');
      if (result === 'valid') {
        expect(decryptData(key, data, aad).toString('hex')).toBe(t.msg);
      } else {
        expect(() => decryptData(key, data, aad)).toThrowError(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
      }
    },
  );

  it('rejects every truncated tag (1, 4, 8, 12, 15 bytes) of every valid vector', () => {
    let tried = 0;
    let accepted = 0;
    for (const t of wycheproof.filter((v) => v.result === 'valid')) {
      for (const tagBytes of [1, 4, 8, 12, 15]) {
        tried++;
        const data = Buffer.concat([
          Buffer.from(t.iv, 'hex'),
          Buffer.from(t.ct, 'hex'),
          Buffer.from(t.tag, 'hex').subarray(0, tagBytes),
        ]);
        try {
          decryptData(Buffer.from(t.key, 'hex'), data, Buffer.from(t.aad, 'hex'));
          accepted++;
        } catch (error) {
          expect(error).toBeInstanceOf(WebhookError);
          expect((error as WebhookError).code).toBe('DECRYPTION_FAILED');
        }
      }
    }
    expect(tried).toBe(195);
    expect(accepted).toBe(0);
  });
});
