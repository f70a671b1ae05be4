import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './testing/test-app';

let t: TestApp;
afterEach(async () => t?.app.close());

describe('/metrics access', () => {
  it('without a token: loopback peers only (403 forbidden for others, in the error shape)', async () => {
    t = testApp();
    for (const remoteAddress of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) {
      expect([remoteAddress, (await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress })).statusCode]).toEqual([remoteAddress, 200]);
    }
    for (const remoteAddress of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', '2001:db8::1']) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress });
      expect([remoteAddress, res.statusCode, res.json().error.code]).toEqual([remoteAddress, 403, 'forbidden']);
      expect(res.body).not.toContain('webchat_');
    }
  });

  it('with --metrics-token: every caller needs the bearer token (401 otherwise), loopback included', async () => {
    t = testApp({ argv: ['--metrics-token', 'm3trics-s3cret'] });
    const get = (remoteAddress: string, authorization?: string) =>
      t.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: authorization ? { authorization } : {} });
    for (const [addr, auth] of [['127.0.0.1', undefined], ['10.0.0.5', 'Bearer wrong'], ['10.0.0.5', 'Basic bTNOcmljcw=='], ['10.0.0.5', 'Bearer m3trics-s3cre']] as const) {
      const res = await get(addr, auth);
      expect([addr, auth, res.statusCode, res.json().error.code]).toEqual([addr, auth, 401, 'unauthorized']);
      expect(res.body).not.toContain('m3trics-s3cret');
    }
    for (const addr of ['10.0.0.5', '127.0.0.1']) {
      const ok = await get(addr, 'Bearer m3trics-s3cret');
      expect([addr, ok.statusCode]).toEqual([addr, 200]);
      expect(ok.body).toContain('webchat_sockets');
    }
  });
});
