/**
 * A small HTTP client for integration tests: `fetch` against the real server on 127.0.0.1.
 * Every answer keeps its status, headers, raw text and parsed JSON (when it is JSON).
 */

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, or undefined when the body is empty or not JSON. */
  json: T;
}

export interface RequestOptions {
  /** JSON body (serialized, `content-type: application/json`). */
  json?: unknown;
  /** Raw body (sent as is; set `content-type` yourself). */
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export class Api {
  /** `base` without a trailing slash, e.g. `http://127.0.0.1:1234`. */
  constructor(readonly base: string) {}

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | Buffer | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body) });
    const text = await res.text();
    let json: any;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, { headers });
  }
  /** A JSON POST; with no `json`, an empty object (writes must be `application/json`). */
  post<T = any>(path: string, json: unknown = {}, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { json, headers });
  }
  del<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** `POST /chat` (or `/chat/:runtime_key` when `path` is given). */
  chat(body: Record<string, unknown>, headers?: Record<string, string>, path = '/chat') {
    return this.post(path, body, headers);
  }

  cancel(convId: string, body: Record<string, unknown> = {}) {
    return this.post(`/api/conversations/${convId}/cancel`, body);
  }

  conversation(convId: string) {
    return this.get(`/api/conversations/${convId}`);
  }

  timeline(convId: string) {
    return this.get(`/api/timeline?conv_id=${convId}`);
  }

  events(convId: string, since = 0, limit = 10_000) {
    return this.get(`/api/conversations/${convId}/events?since=${since}&limit=${limit}`);
  }

  /**
   * The whole log over HTTP, page by page: the frames as parsed JSON and, per frame, its exact
   * JSON text as the server serialized it (cut out of the raw response body).
   */
  async allEvents(convId: string): Promise<{ epoch: string; lastSeq: number; frames: any[]; raw: string[] }> {
    const frames: any[] = [];
    const raw: string[] = [];
    let since = 0;
    let epoch = '';
    let lastSeq = 0;
    for (;;) {
      const r = await this.events(convId, since, 10_000);
      if (r.status !== 200) throw new Error(`GET events → ${r.status} ${r.text}`);
      epoch = r.json.epoch;
      lastSeq = r.json.last_seq;
      frames.push(...r.json.frames);
      raw.push(...splitFrames(r.text));
      if (r.json.frames.length === 0 || r.json.next_since >= r.json.last_seq) break;
      since = r.json.next_since;
    }
    return { epoch, lastSeq, frames, raw };
  }

  /** Polls `GET /api/conversations/:id` until `pred` holds (condition, not a fixed sleep). */
  async waitState(convId: string, pred: (state: any) => boolean, what = 'conversation state', timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: HttpResult | null = null;
    for (;;) {
      last = await this.conversation(convId);
      if (last.status === 200 && pred(last.json)) return last.json;
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; last answer ${last.status} ${last.text.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits until the conversation has no active run and an empty queue. */
  waitIdle(convId: string, timeoutMs = 20_000) {
    return this.waitState(convId, (s) => s.running === null && s.queue.length === 0, 'run to end', timeoutMs);
  }
}

/**
 * Splits the raw body of an events answer into the exact text of each frame of its `frames`
 * array (the server writes `{"conv_id":…,"epoch":…,"frames":[{…},{…}],…}`).
 */
export function splitFrames(body: string): string[] {
  const start = body.indexOf('"frames":[');
  if (start < 0) throw new Error('no frames array in the body');
  const out: string[] = [];
  let i = start + '"frames":['.length;
  let depth = 0;
  let inString = false;
  let from = -1;
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) from = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(body.slice(from, i + 1));
    } else if (c === ']' && depth === 0) break;
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
