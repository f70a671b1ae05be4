import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage };

/**
 * Turns one SSE message into the value the engine reads: a value to keep, `undefined` to skip
 * it, `SSE_END` to ignore everything after it (e.g. OpenAI's `[DONE]`). Throwing stops the
 * stream with that error, after the values decoded before it were delivered.
 */
export type SseDecode<T> = (message: EventSourceMessage) => T | undefined | typeof SSE_END;

/** Returned by an `SseDecode` for an end marker: later messages are ignored (the body is still read to its end). */
export const SSE_END: unique symbol = Symbol('sse-end');

/**
 * Reads a fetch `Response` body as Server-Sent Events, lean: one streaming `TextDecoder` (a
 * chunk may end inside a UTF-8 sequence), `eventsource-parser` for the SSE grammar (a chunk may
 * end mid-line; LF, CRLF and CR line ends; multi-line `data:`; comments and keep-alives
 * ignored), and one tight loop per network read. Each `next()` yields the batch of decoded
 * values one network read completed (never an empty batch), so a stream costs one promise per
 * read instead of several async-generator layers per event; the stall watchdog
 * (`ctx.open`) wraps this iteration and sees a batch as an event arrival.
 *
 * Ends quietly when `signal` aborted (like the SDKs' own readers: the caller checks the signal);
 * a network error (connection reset, socket closed) is thrown as the fetch implementation
 * raised it, so error classification sees what it saw with the SDK's reader. An incomplete last
 * message (no blank line before the end of the body) is dropped, as the SSE spec says.
 */
export function readSseBatches<T>(response: Response, decode: SseDecode<T>, signal: AbortSignal): AsyncIterable<T[]> {
  return {
    [Symbol.asyncIterator]: () => new SseBatchIterator(response, decode, signal),
  };
}

class SseBatchIterator<T> implements AsyncIterator<T[]> {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | null;
  private readonly decoder = new TextDecoder();
  private readonly parser;
  private batch: T[] = [];
  /** An error a message decoded to: thrown once the values before it were delivered. */
  private failure: { error: unknown } | null = null;
  private ended = false;
  private finished = false;

  constructor(response: Response, private readonly decode: SseDecode<T>, private readonly signal: AbortSignal) {
    this.reader = response.body ? response.body.getReader() : null;
    this.parser = createParser({ onEvent: (m) => this.onMessage(m) });
  }

  async next(): Promise<IteratorResult<T[]>> {
    if (this.failure) return this.fail();
    if (this.finished) return { done: true, value: undefined };
    if (!this.reader) {
      this.finished = true;
      throw new Error('the response has no body to stream');
    }
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await this.reader.read();
      } catch (err) {
        this.finished = true;
        if (this.signal.aborted) return { done: true, value: undefined };
        throw err;
      }
      if (read.done) {
        this.finished = true;
        const rest = this.decoder.decode();
        if (rest) this.parser.feed(rest);
        this.reader.releaseLock();
        return this.deliver() ?? (this.failure ? this.fail() : { done: true, value: undefined });
      }
      if (this.signal.aborted) return this.stop();
      this.parser.feed(this.decoder.decode(read.value, { stream: true }));
      const out = this.deliver();
      if (out) return out;
      if (this.failure) return this.fail();
    }
  }

  /** Leaving early (`break`, or the engine threw): stops reading and releases the connection. */
  async return(): Promise<IteratorResult<T[]>> {
    return this.stop();
  }

  private onMessage(message: EventSourceMessage): void {
    if (this.ended || this.failure) return;
    try {
      const value = this.decode(message);
      if (value === SSE_END) this.ended = true;
      else if (value !== undefined) this.batch.push(value);
    } catch (error) {
      this.failure = { error };
    }
  }

  private deliver(): IteratorResult<T[]> | null {
    if (!this.batch.length) return null;
    const value = this.batch;
    this.batch = [];
    return { done: false, value };
  }

  private fail(): never {
    const { error } = this.failure!;
    void this.stop();
    throw error;
  }

  private stop(): IteratorResult<T[]> {
    if (!this.finished) {
      this.finished = true;
      this.reader?.cancel().catch(() => { /* the connection is being dropped anyway */ });
    }
    return { done: true, value: undefined };
  }
}
