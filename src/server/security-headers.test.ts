import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './testing/test-app';

let t: TestApp;
afterEach(async () => t?.app.close());

const csp = (header: unknown): Record<string, string> =>
  Object.fromEntries(String(header).split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/);
    return [name!, values.join(' ')];
  }));

describe('security headers', () => {
  it('every response (page, API, errors) carries the strict CSP, nosniff, no-referrer; no HSTS on http', async () => {
    t = testApp();
    for (const [method, url] of [['GET', '/'], ['GET', '/healthz'], ['GET', '/api/nope'], ['POST', '/chat']] as const) {
      const res = await t.app.inject({ method, url, headers: { host: '127.0.0.1:8080' }, ...(method === 'POST' ? { payload: {} } : {}) });
      const d = csp(res.headers['content-security-policy']);
      expect([url, d['script-src'], d['style-src'], d['default-src'], d['frame-ancestors'], d['object-src']]).toEqual([url, "'self'", "'self'", "'self'", "'none'", "'none'"]);
      // the page's own WebSocket, nothing else
      expect(d['connect-src']).toBe("'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('HSTS only when the public URL is https', async () => {
    t = testApp({ argv: ['--public-url', 'https://chat.example.com'] });
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'chat.example.com' } });
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=31536000/);
  });
});
