import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { createHostCheck, createOriginCheck, hostName } from './host-check';
import { testApp } from './testing/test-app';

describe('hostName', () => {
  it.each([
    ['localhost', 'localhost'],
    ['LocalHost:8080', 'localhost'],
    ['127.0.0.1:1', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:9000', '[::1]'],
    ['chat.example.com.', 'chat.example.com.'],
    ['a:b:c', null],
    ['user@evil.example', null],
    ['evil.example/x', null],
    ['[::1', null],
    ['', null],
  ])('%j → %j', (header, name) => {
    expect(hostName(header)).toBe(name);
  });
});

describe('createHostCheck', () => {
  const check = (argv: string[]) => createHostCheck(parseConfig(argv, {}));

  it('by default only loopback names pass, with any port, in any case', () => {
    const c = check([]);
    for (const h of ['localhost', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:8080', '[::1]', '[::1]:8080']) expect(c(h), h).toBeNull();
    for (const h of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '127.0.0.2', '0.0.0.0', '[::2]', 'localhost.', 'a:b:c']) {
      const e = c(h);
      expect(e?.code, h).toBe('forbidden');
      expect(e?.message).toContain('--allowed-hosts');
      expect(e?.details).toEqual({ host: h });
    }
  });

  it('a missing or empty Host is a bad request', () => {
    expect(check([])(undefined)?.code).toBe('bad_request');
    expect(check([])('  ')?.code).toBe('bad_request');
  });

  it('--public-url adds its host (any port); --allowed-hosts adds names, .name adds subdomains', () => {
    const c = check(['--public-url', 'https://Chat.Example.com:8443/ui', '--allowed-hosts', '10.0.0.5,.corp.example,[fe80::1]']);
    for (const h of ['chat.example.com', 'chat.example.com:8443', 'CHAT.example.com:80', '10.0.0.5:8080', 'corp.example', 'a.b.corp.example', '[fe80::1]:1', 'localhost']) {
      expect(c(h), h).toBeNull();
    }
    for (const h of ['example.com', 'x.chat.example.com', '10.0.0.6', 'evilcorp.example', 'corp.example.evil']) expect(c(h)?.code, h).toBe('forbidden');
  });

  it('--allowed-hosts * turns the check off', () => {
    const c = check(['--allowed-hosts', '*']);
    expect(c('evil.example')).toBeNull();
    expect(c(undefined)).toBeNull();
  });
});

describe('createOriginCheck (WebSocket handshakes)', () => {
  it('no Origin passes; an origin passes when its host would', () => {
    const c = createOriginCheck(parseConfig(['--allowed-hosts', 'chat.example'], {}));
    for (const o of [undefined, 'http://localhost:5173', 'https://127.0.0.1', 'http://[::1]:8080', 'https://chat.example']) expect(c(o), o).toBeNull();
    for (const o of ['https://evil.example', 'null', 'file://', 'chrome-extension://abc', 'http://localhost.evil.example', 'garbage']) {
      const e = c(o);
      expect(e?.code, o).toBe('forbidden');
      expect(e?.details).toEqual({ origin: o });
    }
  });

  it('--allowed-hosts * lets any origin through', () => {
    expect(createOriginCheck(parseConfig(['--allowed-hosts', '*'], {}))('https://evil.example')).toBeNull();
  });
});

describe('the app refuses other hosts before any route', () => {
  it('403 forbidden in the error shape; nothing called', async () => {
    const t = testApp();
    try {
      for (const [method, url] of [
        ['GET', '/api/conversations'],
        ['POST', '/chat'],
        ['DELETE', '/api/conversations/c1'],
        ['GET', '/nope'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: { host: 'evil.example', 'content-type': 'application/json' }, payload: method === 'POST' ? '{"prompt":"hi"}' : undefined });
        expect([url, res.statusCode, res.json().error.code]).toEqual([url, 403, 'forbidden']);
      }
      expect(t.service.mutatingCalls()).toEqual([]);
      const ok = await t.app.inject({ method: 'GET', url: '/api/conversations', headers: { host: '[::1]:8080' } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await t.app.close();
    }
  });
});
