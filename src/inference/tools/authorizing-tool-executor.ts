import type { ToolCall, ToolExecutionContext, ToolExecutor, ToolResult } from './tool-executor';

export type AuthorizationDecision = { allow: true } | { allow: false; reason: string };

/** Decides per call and principal; may be async. Throwing (or rejecting) denies the call. */
export type AuthorizeFn = (principal: string | null, call: ToolCall) => AuthorizationDecision | Promise<AuthorizationDecision>;

/**
 * Wraps another executor (D9): every call of the batch is authorized first (concurrently);
 * denied calls get `status: 'denied'` with the reason as `error` and never reach the inner
 * executor; the allowed ones run through it as one batch. Fails closed: an `authorize` that
 * throws denies with `authorization failed: <message>`. `onResult` fires once for each denied
 * call (no `onStart`); the inner executor reports the others. Results are in call order.
 */
export class AuthorizingToolExecutor implements ToolExecutor {
  constructor(
    private readonly inner: ToolExecutor,
    private readonly authorize: AuthorizeFn,
  ) {}

  async execute(calls: readonly ToolCall[], ctx: ToolExecutionContext): Promise<ToolResult[]> {
    const decisions = await Promise.all(calls.map((c) => this.decide(ctx.principal, c)));
    const byIndex: (ToolResult | undefined)[] = new Array(calls.length).fill(undefined);
    const allowed: { index: number; call: ToolCall }[] = [];
    decisions.forEach((d, i) => {
      const call = calls[i]!;
      if (d.allow) {
        allowed.push({ index: i, call });
        return;
      }
      const r: ToolResult = { id: call.id, status: 'denied', result: null, error: d.reason, durationMs: 0, truncated: false, retries: 0 };
      byIndex[i] = r;
      try {
        ctx.onResult?.(call, r);
      } catch {
        // as the default executor: a callback failure does not strand the batch
      }
    });
    if (allowed.length > 0) {
      const inner = await this.inner.execute(
        allowed.map((a) => a.call),
        ctx,
      );
      // Match by position, falling back to id, so a misbehaving inner executor cannot shift results.
      allowed.forEach((a, k) => {
        const r = inner[k]?.id === a.call.id ? inner[k] : inner.find((x) => x.id === a.call.id);
        byIndex[a.index] = r ?? { id: a.call.id, status: 'error', result: null, error: 'no result', durationMs: 0, truncated: false, retries: 0 };
      });
    }
    return byIndex as ToolResult[];
  }

  private async decide(principal: string | null, call: ToolCall): Promise<AuthorizationDecision> {
    try {
      const d = await this.authorize(principal, call);
      if (d && d.allow === true) return d;
      const reason = d && typeof d.reason === 'string' && d.reason ? d.reason : 'denied';
      return { allow: false, reason };
    } catch (err) {
      return { allow: false, reason: `authorization failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}
