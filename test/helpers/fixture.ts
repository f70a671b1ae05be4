import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startServer, tempDir, type StartOptions, type TempDir, type TestServer } from './server';
import { frameProblems, WsClient, type ConnectOptions } from './ws-client';

export interface ServerFixture {
  /** The temp directory (SQLite file, profiles file). */
  dir: TempDir;
  /** The running server (a test may replace it, e.g. after a restart). */
  srv: TestServer;
  /** Every socket opened through `open`; terminated after the file. */
  sockets: WsClient[];
  /** Opens a socket on a conversation and waits for `ws.hello`. */
  open(convId: string, opts?: ConnectOptions): Promise<WsClient>;
}

/**
 * One real server per test file: started before the tests (in-process, random port, a SQLite
 * file in a temp directory), closed after; after every test, every frame any client received
 * must have parsed with `EnvelopeSchema`.
 */
export function useServer(opts: StartOptions | ((dir: TempDir) => StartOptions) = {}): ServerFixture {
  const fx = {
    sockets: [] as WsClient[],
    async open(convId: string, o: ConnectOptions = {}) {
      const c = await WsClient.open(fx.srv.wsBase, convId, o);
      fx.sockets.push(c);
      return c;
    },
  } as ServerFixture;
  beforeAll(async () => {
    fx.dir = tempDir();
    fx.srv = await startServer(fx.dir, typeof opts === 'function' ? opts(fx.dir) : opts);
  });
  afterEach(() => {
    expect(frameProblems(fx.sockets)).toEqual([]);
  });
  afterAll(async () => {
    for (const s of fx.sockets) s.terminate();
    await fx.srv?.close();
    fx.dir?.remove();
  });
  return fx;
}
