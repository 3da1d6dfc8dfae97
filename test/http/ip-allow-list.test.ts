import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createIpAllowList, KOMPLIANT_SENDER_IPS, kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

describe('createIpAllowList', () => {
  const allowed = createIpAllowList(['203.0.113.0/24', '198.51.100.7', '2001:db8::/32', '::ffff:192.0.2.0/120']);

  it.each([
    ['203.0.113.9', true],
    ['203.0.114.1', false],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['::ffff:203.0.113.200', true],
    ['::FFFF:198.51.100.7', true],
    ['::ffff:198.51.100.8', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['192.0.2.77', true],
    ['::ffff:192.0.2.77', true],
    ['fe80::1%eth0', false],
    ['not-an-ip', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (ip, expected) => {
    expect(allowed(ip)).toBe(expected);
  });

  it.each([[[]], [['10.0.0.0/33']], [['::/129']], [['10.0.0.1/8/2']], [['example.com']], [[42]], [['10.0.0.0/x']], ['10.0.0.1']])(
    'rejects %j',
    (entries) => {
      expect(() => createIpAllowList(entries as string[])).toThrow(TypeError);
    },
  );

  it('takes entries with spaces before them (and after an address), as split from a comma-separated setting', () => {
    const fromSetting = createIpAllowList(' 203.0.113.7 , 198.51.100.0/24,\t::ffff:192.0.2.0/120'.split(','));
    expect(fromSetting('203.0.113.7')).toBe(true);
    expect(fromSetting('198.51.100.9')).toBe(true);
    expect(fromSetting('192.0.2.9')).toBe(true);
    expect(fromSetting('203.0.113.8')).toBe(false);
  });

  it('matches a link-local client with a zone id (fe80::1%eth0) by its address', () => {
    const linkLocal = createIpAllowList(['fe80::1']);
    expect(linkLocal('fe80::1%eth0')).toBe(true);
    expect(linkLocal('fe80::1%2')).toBe(true);
    expect(linkLocal('fe80::2%eth0')).toBe(false);
  });

  it('names the option and the entry in its TypeError', () => {
    expect(() => createIpAllowList([])).toThrowError(/^allowedIps must be a non-empty array of IP addresses or CIDR ranges$/);
    expect(() => createIpAllowList(['10.0.0.1', 'example.com'])).toThrowError(/^allowedIps: "example.com" is not an IP address or CIDR range$/);
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), allowedIps: ['10.0.0.0/8/1'] })).toThrowError(/^allowedIps: "10.0.0.0\/8\/1" is not/);
    expect(() => createIpAllowList([42 as never])).toThrowError(/^allowedIps: "42" is not an IP address or CIDR range$/);
    // A long entry (a pasted file, say) is quoted by its first 64 characters only.
    expect(() => createIpAllowList([`10.0.0.1 ${'x'.repeat(200)}`])).toThrowError(new TypeError(`allowedIps: "10.0.0.1 ${'x'.repeat(55)}" is not an IP address or CIDR range`));
  });

  it('KOMPLIANT_SENDER_IPS holds exactly the four published addresses, frozen, and works as an allow-list', () => {
    expect(KOMPLIANT_SENDER_IPS).toEqual(['3.230.141.132', '35.166.77.7', '52.27.236.245', '54.86.192.161']);
    expect(Object.isFrozen(KOMPLIANT_SENDER_IPS)).toBe(true);
    const senders = createIpAllowList([...KOMPLIANT_SENDER_IPS, '10.0.0.0/8']);
    for (const ip of KOMPLIANT_SENDER_IPS) {
      expect(senders(ip)).toBe(true);
      expect(senders(`::ffff:${ip}`)).toBe(true);
    }
    expect(senders('10.1.2.3')).toBe(true);
    expect(senders('3.230.141.133')).toBe(false);
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), allowedIps: KOMPLIANT_SENDER_IPS })).not.toThrow();
  });
});

describe('allowedIps through Express (req.ip, so trust proxy decides)', () => {
  function app(trustProxy: boolean) {
    const onEvent = vi.fn();
    const a = express();
    a.set('trust proxy', trustProxy);
    a.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), allowedIps: ['203.0.113.0/24'], onEvent }));
    return { app: a, onEvent };
  }
  const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });

  it('refuses the loopback client with 403 FORBIDDEN_IP before reading the body', async () => {
    const { app: a, onEvent } = app(false);
    const res = await request(a).post(PATH).send(envelope());
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN_IP');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('ignores X-Forwarded-For unless trust proxy is set', async () => {
    const { app: a } = app(false);
    await request(a).post(PATH).set('x-forwarded-for', '203.0.113.5').send(envelope()).expect(403);
  });

  it('uses X-Forwarded-For when trust proxy is set', async () => {
    const { app: a, onEvent } = app(true);
    await request(a).post(PATH).set('x-forwarded-for', '203.0.113.5').send(envelope()).expect(200);
    await request(a).post(PATH).set('x-forwarded-for', '10.1.1.1').send(envelope()).expect(403);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('a forbidden client learns nothing else, not even about the method', async () => {
    const a = express();
    a.use(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), allowedIps: ['203.0.113.0/24'], onEvent: vi.fn() }));
    const res = await request(a).put(PATH).send('x');
    expect(res.status).toBe(403);
  });
});
