import { randomUUID } from 'node:crypto';
import { envelope } from '../protocol/frames';
import { CLOSE_CODES } from '../protocol/errors';
import { OVERRIDE_KEYS, type CancelResponse, type ConversationList, type ConversationState, type EventsResponse, type PauseAction, type ProfileInfo } from '../protocol/http';
import { PROTOCOL_VERSION } from '../protocol/ids';
import type { TimelineSnapshot } from '../protocol/timeline';
import type { ChatService, PauseOutcome, PromptInput, PromptOutcome, WsLike } from './chat-service';
import type { Conversation } from './conversation';
import { idemScope, promptHash } from './prompt-queue';
import type { ConversationManager } from './conversation-manager';
import type { GroupCommitter } from './group-committer';
import type { ProfileRegistry } from './profile-registry';
import type { Store } from './store/store';
import { sendPong } from './stream-coordinator';
import { TimelineProjection } from './timeline-projection';
import { assertStoreWritable, WebchatError } from './webchat-error';

interface Inflight {
  promise: Promise<PromptOutcome>;
  convId: string | null;
  hash: string;
}

/** The ChatService behind the HTTP/WebSocket routes (one instance per server process). */
export class WebchatService implements ChatService {
  private readonly idemInflight = new Map<string, Inflight>();

  constructor(
    private readonly store: Store,
    private readonly committer: GroupCommitter,
    readonly manager: ConversationManager,
    readonly profiles: ProfileRegistry,
  ) {}

  async submitPrompt(input: PromptInput): Promise<PromptOutcome> {
    // while the store fails commits, a prompt is refused at once: nothing is accepted, queued or
    // recorded (its idempotency key stays free), and the client never waits for the outage
    assertStoreWritable(this.committer);
    const profile = this.profiles.require(input.runtimeKey);
    const overrides = input.overrides ?? null;
    if (overrides) {
      for (const k of Object.keys(overrides)) {
        // step_mode is the same switch as PUT …/step-mode, which every caller of the conversation
        // may flip: it is always accepted (a new chat's first prompt can start stepped)
        if (!(OVERRIDE_KEYS as readonly string[]).includes(k) || (k !== 'step_mode' && !profile.allowOverrides.includes(k))) {
          throw new WebchatError('override_not_allowed', `profile "${profile.slug}" does not allow the override "${k}"`, { key: k, allowed: profile.allowOverrides });
        }
      }
    }
    const runtime = { profile, overrides };
    if (!input.idempotencyKey) {
      const conv = (await this.manager.get(input.convId ?? randomUUID(), true))!;
      return conv.submit({ prompt: input.prompt, runtime, idempotencyKey: null, principal: input.principal });
    }
    const key = input.idempotencyKey;
    const scope = `${idemScope(input.principal)}\u0000${key}`;
    const hash = promptHash(input.prompt);
    const mismatch = (convId: string | null, h: string) => h !== hash || (input.convId !== null && convId !== null && convId !== input.convId);
    const reused = () => new WebchatError('idempotency_key_reused', 'this idempotency key was used for a different prompt or conversation', { idempotency_key: key });
    const running = this.idemInflight.get(scope);
    if (running) {
      if (mismatch(running.convId, running.hash)) throw reused();
      return running.promise;
    }
    const promise = (async (): Promise<PromptOutcome> => {
      const rec = await this.store.getIdempotency(idemScope(input.principal), key);
      if (rec) {
        if (mismatch(rec.convId, rec.promptHash)) throw reused();
        const conv = await this.manager.get(rec.convId, false);
        if (!conv) throw new WebchatError('conversation_deleted', `conversation ${rec.convId} was deleted`);
        return conv.replayState(rec.turnId, key);
      }
      const conv = (await this.manager.get(input.convId ?? randomUUID(), true))!;
      return conv.submit({ prompt: input.prompt, runtime, idempotencyKey: key, principal: input.principal });
    })();
    this.idemInflight.set(scope, { promise, convId: input.convId, hash });
    const forget = () => this.idemInflight.delete(scope);
    promise.then(forget, forget);
    return promise;
  }

  private async existing(convId: string): Promise<Conversation> {
    const c = await this.manager.get(convId, false);
    if (!c || (c.log.headSeq === 0 && !(await this.store.getConversation(convId)))) {
      throw new WebchatError('conversation_not_found', `conversation ${convId} not found`);
    }
    return c;
  }

  async cancel(convId: string, opts: { inferenceId: string | null; clearQueue: boolean }, _principal: string | null = null): Promise<CancelResponse> {
    const c = await this.existing(convId);
    assertStoreWritable(this.committer); // its answer needs a commit: refused now, never a hang
    return c.cancel(opts.inferenceId, opts.clearQueue);
  }

  async getConversation(convId: string, _principal: string | null = null): Promise<ConversationState> {
    return (await this.existing(convId)).state();
  }

  async listConversations(opts: { limit: number; cursor: string | null }, _principal: string | null = null): Promise<ConversationList> {
    let before: { lastActivityMs: number; convId: string } | null = null;
    if (opts.cursor) {
      const m = /^(\d+):([A-Za-z0-9_-]{1,128})$/.exec(Buffer.from(opts.cursor, 'base64url').toString());
      if (!m) throw new WebchatError('bad_request', 'invalid cursor');
      before = { lastActivityMs: Number(m[1]), convId: m[2]! };
    }
    const rows = await this.store.listConversations({ limit: opts.limit + 1, before });
    const page = rows.slice(0, opts.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        conv_id: r.convId, title: r.title, created_at_ms: r.createdAtMs, last_activity_ms: r.lastActivityMs,
        running: !!this.manager.peek(r.convId)?.log.projection.conversation.running, // committed state (D2)
      })),
      next_cursor: rows.length > opts.limit && last ? Buffer.from(`${last.lastActivityMs}:${last.convId}`).toString('base64url') : null,
    };
  }

  async deleteConversation(convId: string, _principal: string | null = null): Promise<void> {
    await this.existing(convId);
    assertStoreWritable(this.committer);
    await this.manager.delete(convId);
  }

  async readEvents(convId: string, since: number, limit: number, _principal: string | null = null): Promise<EventsResponse> {
    const c = await this.existing(convId);
    const log = c.log;
    if (since > log.lastSeq) return { conv_id: convId, epoch: log.epoch, frames: [], last_seq: log.lastSeq, next_since: since, resync: true };
    const entries = await log.read(since, limit);
    return {
      conv_id: convId, epoch: log.epoch, frames: entries.map((e) => JSON.parse(e.json)), last_seq: log.lastSeq,
      next_since: entries.length ? entries[entries.length - 1]!.seq : since, resync: false,
    };
  }

  async getTimeline(convId: string, _principal: string | null = null): Promise<TimelineSnapshot> {
    const c = await this.manager.get(convId, false);
    // an unknown conversation: an empty snapshot (version 0), and nothing is loaded or kept
    if (!c) return new TimelineProjection().snapshot(convId, this.manager.waiting.epochOf(convId) ?? '');
    return c.log.projection.snapshot(convId, c.log.epoch);
  }

  async getTurns(convId: string, full: boolean, _principal: string | null = null): Promise<unknown> {
    const c = await this.existing(convId);
    let prevIds = new Set<string>();
    const turns = c.session.turns.map((t) => {
      const own = full ? t.blocks : t.blocks.filter((b) => !prevIds.has(`${b.kind}:${b.id}`));
      prevIds = new Set(t.blocks.map((b) => `${b.kind}:${b.id}`));
      return {
        turn_id: t.id, inference_id: (t.metadata.inferenceId as string | undefined) ?? null, status: (t.metadata.status as string | undefined) ?? null,
        created_at_ms: (t.metadata.createdAtMs as number | undefined) ?? 0, blocks: own,
      };
    });
    return { conv_id: convId, turns };
  }

  async setStepMode(convId: string, enabled: boolean, _principal: string | null = null): Promise<{ step_mode: boolean }> {
    // like every route of one conversation: an unknown id is 404 and nothing is created
    const c = await this.existing(convId);
    assertStoreWritable(this.committer);
    const seq = c.setStepMode(enabled);
    if (seq !== null) await c.log.waitCommitted(seq);
    return { step_mode: c.row.stepMode };
  }

  async resolvePause(convId: string | null, pauseId: string, action: PauseAction, toolCallIds: string[] | null, principal: string | null): Promise<PauseOutcome> {
    const owner = this.manager.loaded().find((c) => c.steps.has(pauseId));
    let c: Conversation;
    if (convId) {
      c = await this.existing(convId);
      if (!c.steps.has(pauseId)) {
        if (owner) throw new WebchatError('forbidden', `pause ${pauseId} belongs to another conversation`);
        throw new WebchatError('pause_not_found', `pause ${pauseId} not found`);
      }
    } else {
      if (!owner) throw new WebchatError('pause_not_found', `pause ${pauseId} not found`);
      c = owner;
    }
    assertStoreWritable(this.committer);
    const r = c.steps.resolve(pauseId, action, toolCallIds, principal ?? 'operator');
    await c.log.waitCommitted(c.log.headSeq);
    return { ok: true, pause: { pause_id: pauseId, phase: r.phase, conv_id: c.convId, resolution: r.resolution, effect: r.effect } };
  }

  async attachSocket(convId: string, ws: WsLike, opts: { since: number | null; epoch: string | null }, _principal: string | null = null): Promise<void> {
    if (await this.manager.isDeleted(convId)) {
      const now = Date.now();
      ws.send(JSON.stringify(envelope('ws.hello', `ws.hello:${convId}:${now}`, { convId, runtimeKey: this.profiles.defaultSlug, serverTime: now, lastSeq: 0, epoch: '', protocolVersion: PROTOCOL_VERSION })), { binary: false });
      ws.close(CLOSE_CODES.deleted, 'conversation deleted');
      return;
    }
    await this.manager.attachSocket(convId, ws, opts);
  }

  onSocketMessage(convId: string, ws: WsLike, text: string): void {
    let isPing = text.trim() === 'ping';
    if (!isPing && text.length < 1024) {
      try {
        const m = JSON.parse(text) as { type?: string; event?: { type?: string } };
        isPing = m.type === 'ws.ping' || m.event?.type === 'ws.ping';
      } catch {
        /* anything else is ignored */
      }
    }
    // every socket of the conversation gets its pong, a waiting one (no conversation yet) too
    if (isPing) sendPong(ws, convId);
  }

  listProfiles(): ProfileInfo[] {
    return this.profiles.list();
  }

  resolveProfileSlug(slug: string | null): string {
    return this.profiles.require(slug).slug;
  }

  async ready(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const store = await this.store.ping().catch(() => false);
    const commits = this.committer.healthy;
    return { ready: store && commits, checks: { store, commits } };
  }

  /** Resolves when everything appended so far is committed. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  async close(): Promise<void> {
    await this.manager.shutdown(CLOSE_CODES.shutdown);
    await this.store.close();
  }
}
