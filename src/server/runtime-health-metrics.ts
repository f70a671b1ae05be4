import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** Sampling interval of the event-loop delay histogram. */
const RESOLUTION_MS = 10;

/**
 * Event-loop health and disk writes, for sizing and alerting:
 *
 * - `<p>event_loop_delay_seconds{quantile="0.5"|"0.99"|"max"}`: how late the event loop ran a
 *   timer since the previous scrape (the `perf_hooks` histogram; its sampling interval is
 *   subtracted, so an idle loop reads 0). A commit or a parse that blocks the loop shows here.
 * - `<p>process_disk_written_bytes`: bytes this process caused to be written to storage
 *   (`write_bytes` of `/proc/self/io`; Linux only, absent elsewhere). With
 *   `<p>frame_bytes_total` it gives the store's write amplification.
 */
export function registerRuntimeHealth(registry: Registry, p: string): void {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const sec = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000;
  new Gauge({
    name: `${p}event_loop_delay_seconds`,
    help: 'Event-loop delay since the previous scrape (sampling interval subtracted)',
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      this.set({ quantile: '0.5' }, sec(h.percentile(50)));
      this.set({ quantile: '0.99' }, sec(h.percentile(99)));
      this.set({ quantile: 'max' }, sec(h.max));
      h.reset();
    },
  });
  if (readDiskWrites() === null) return;
  new Gauge({
    name: `${p}process_disk_written_bytes`,
    help: 'Bytes this process caused to be written to storage (/proc/self/io write_bytes)',
    registers: [registry],
    collect() {
      const v = readDiskWrites();
      if (v !== null) this.set(v);
    },
  });
}

function readDiskWrites(): number | null {
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
