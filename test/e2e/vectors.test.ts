import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { WebhookError, kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { decryptData } from '../../src/wire.js';
import { loadEnvelopeVectors, loadWycheproofKompliantProfile } from '../support/vectors.js';

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
