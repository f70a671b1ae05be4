import { describe, expect, it } from 'vitest';
import { createEvent } from './events';
import { currentSinks, publishEvent, withEventSinks, withOnlyEventSinks } from './event-sinks';
import { collector } from './testing/scripted-engine';

const id = { sessionId: 's', inferenceId: 'i', turnId: 't' };

describe('event sinks (AsyncLocalStorage)', () => {
  it('delivers an event to every sink exactly once, also when a sink is attached twice by nesting', async () => {
    const a = collector();
    const b = collector();
    await withEventSinks([a.sink], () =>
      withEventSinks([b.sink, a.sink], async () => {
        await Promise.resolve();
        publishEvent(createEvent('log', id, { level: 'info', message: 'x', fields: null }));
      }),
    );
    expect(a.events).toHaveLength(1);
    expect(b.events).toHaveLength(1);
    expect(a.events[0]).toBe(b.events[0]);
  });

  it('mints a distinct event id at creation', () => {
    const e1 = createEvent('start', id, {});
    const e2 = createEvent('start', id, {});
    expect(e1.meta.eventId).not.toBe(e2.meta.eventId);
    expect(e1.meta.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not leak sinks between concurrent async contexts', async () => {
    const sinks = Array.from({ length: 20 }, () => collector());
    await Promise.all(
      sinks.map((c, i) =>
        withEventSinks([c.sink], async () => {
          for (let k = 0; k < 5; k++) {
            await new Promise((r) => setTimeout(r, (i * 7 + k) % 3));
            publishEvent(createEvent('log', { ...id, inferenceId: `run-${i}` }, { level: 'info', message: `${k}`, fields: null }));
          }
        }),
      ),
    );
    sinks.forEach((c, i) => {
      expect(c.events.map((e) => e.meta.inferenceId)).toEqual(Array(5).fill(`run-${i}`));
    });
    expect(currentSinks()).toHaveLength(0);
  });

  it('withOnlyEventSinks replaces the outer sinks, and a throwing sink does not stop the others', () => {
    const outer = collector();
    const inner = collector();
    withEventSinks([outer.sink], () =>
      withOnlyEventSinks([{ publish: () => { throw new Error('boom'); } }, inner.sink], () => {
        publishEvent(createEvent('start', id, {}));
      }),
    );
    expect(outer.events).toHaveLength(0);
    expect(inner.events).toHaveLength(1);
  });

  it('publishing without sinks is a no-op', () => {
    expect(() => publishEvent(createEvent('start', id, {}))).not.toThrow();
  });
});
