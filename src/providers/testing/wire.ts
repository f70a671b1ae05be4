import type { Usage } from '../../protocol/frames';
import type { ProviderName } from '../index';
import type { Fixture, RecordedRequest } from './replay-server';

/** A provider request reduced to what every provider must carry, read from its own format. */
export interface RequestSummary {
  model: string;
  stream: boolean;
  system: string | null;
  messages: SummaryMessage[];
  tools: { name: string; description: string; schema: unknown }[];
  temperature: number | null;
  maxOutputTokens: number | null;
}

export type SummaryMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: { id: string | null; name: string; args: unknown }[] }
  | { role: 'tool'; callId: string | null; name: string | null; content: unknown; isError: boolean };

/** A tool call to replay; `args` is the JSON text, sent in `fragments` pieces where the wire streams it. */
export interface WireToolCall {
  id: string;
  name: string;
  args: string;
}

export type WireErrorKind = 'auth' | 'forbidden' | 'rate_limit' | 'overloaded' | 'server' | 'context' | 'bad_request';

/**
 * One provider's wire format, for the shared conformance suite: how to reach it, how to read a
 * request it got, and how to build the streams and errors it sends (recorded shapes).
 */
export interface ProviderWire {
  provider: ProviderName;
  model: string;
  /** The engine's `baseURL` for a replay server at `serverUrl`. */
  baseURL(serverUrl: string): string;
  /** Checks transport details of every request: method, path, auth header carrying the key, stream flag. */
  checkTransport(req: RecordedRequest, apiKey: string): void;
  summarize(req: RecordedRequest): RequestSummary;

  text(deltas: string[], usage: Usage): string[];
  /** Text (optional) then tool calls; fragments of parallel calls interleaved where the wire can. */
  toolCalls(calls: WireToolCall[], opts: { text?: string[]; usage: Usage }): string[];
  thinking(thinking: string[], text: string[], usage: Usage): string[];
  /** The start of a stream that shows `deltas` and then never ends (abort / reset tests). */
  textPrefix(deltas: string[]): string[];
  /** A stream whose first event is not valid JSON. */
  malformed(): string[];
  /** A stream that stops before the provider's end marker (no finish reason). */
  truncated(deltas: string[]): string[];
  error(status: number, kind: WireErrorKind, opts?: { retryAfterMs?: number; message?: string }): Pick<Fixture, 'status' | 'json' | 'headers'>;
  /** An error event inside a 200 stream, before content (when the wire has one). */
  streamError?(kind: 'overloaded'): string[];
  /** False when the provider's API takes no sampling temperature (Anthropic's current API version). */
  temperature: boolean;
  /** False when the wire cannot carry unparsable arguments (Gemini sends objects). */
  rawArgs: boolean;
  /** The n-th tool call id as this provider really sends it ('' where the API sends none: Gemini). */
  callId(n: number): string;
  /** Checks that a request made with the engine's `thinking` option asks for thinking. */
  checkThinkingRequest(req: RecordedRequest): void;
}
