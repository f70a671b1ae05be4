/**
 * Tool-call arguments as the model sent them: JSON text parsed to a value. Empty → `{}`;
 * text that is not JSON is kept, unparsed, as `{_raw: "<text>"}` so nothing the model wrote is
 * lost (argument validation then reports it to the model as an error).
 */
export function parseToolArguments(text: string | null | undefined): unknown {
  const t = (text ?? '').trim();
  if (t === '') return {};
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return { _raw: text };
  }
}

interface Pending {
  providerId: string;
  name: string;
  args: string;
  meta: Record<string, unknown>;
}

/**
 * Merges streamed tool-call fragments into whole calls. Fragments are keyed by the provider's
 * `index` (OpenAI chat), content block index (Anthropic) or output index (Responses); the first
 * fragment of a call usually carries its id and name, later ones only argument text.
 *
 * A fragment that carries a *different* non-empty id for a key whose call already has an id
 * and a name starts a new call (some OpenAI-compatible servers send every call with index 0).
 */
export class ToolCallAssembler {
  private readonly calls: Pending[] = [];
  private readonly byKey = new Map<string | number, Pending>();

  /** Adds one fragment. `id`/`name` may be absent or empty on continuation fragments. */
  add(key: string | number | null | undefined, frag: { id?: string | null; name?: string | null; args?: string | null; meta?: Record<string, unknown> }): void {
    const k = key ?? (frag.id || this.calls.length);
    let p = this.byKey.get(k);
    if (p && frag.id && p.providerId && p.name && frag.id !== p.providerId) p = undefined;
    if (!p) {
      p = { providerId: '', name: '', args: '', meta: {} };
      this.calls.push(p);
      this.byKey.set(k, p);
    }
    if (frag.id && !p.providerId) p.providerId = frag.id;
    if (frag.name && !p.name) p.name = frag.name;
    if (frag.args) p.args += frag.args;
    if (frag.meta) Object.assign(p.meta, frag.meta);
  }

  /** Replaces the argument text of a call (when the provider sends the complete arguments at the end). */
  setArgs(key: string | number, args: string): void {
    const p = this.byKey.get(key);
    if (p) p.args = args;
  }

  has(key: string | number): boolean {
    return this.byKey.has(key);
  }

  /** Removes and returns the call of `key` (when the provider says it is complete). */
  take(key: string | number): AssembledToolCall | null {
    const p = this.byKey.get(key);
    if (!p) return null;
    this.byKey.delete(key);
    const i = this.calls.indexOf(p);
    if (i >= 0) this.calls.splice(i, 1);
    return toAssembled(p);
  }

  /** Removes and returns every remaining call, in the order they began. */
  drain(): AssembledToolCall[] {
    const out = this.calls.map(toAssembled);
    this.calls.length = 0;
    this.byKey.clear();
    return out;
  }

  get size(): number {
    return this.calls.length;
  }
}

export interface AssembledToolCall {
  providerId: string;
  name: string;
  argsText: string;
  meta: Record<string, unknown>;
}

function toAssembled(p: Pending): AssembledToolCall {
  return { providerId: p.providerId, name: p.name, argsText: p.args, meta: p.meta };
}
