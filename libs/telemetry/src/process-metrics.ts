// Process metrics every kec process exports (Prometheus' usual process_* names), read at scrape time.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BatchObservableResult, Meter } from '@opentelemetry/api';

/**
 * Registers observable instruments on the meter; returns a function that stops the event-loop monitor.
 * - process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds
 * - nodejs_heap_used_bytes, nodejs_heap_size_total_bytes (what V8 holds for its heap, live or not: with RSS, whether the
 *   heap bounds hold), nodejs_external_memory_bytes (buffers and other memory outside the V8 heap)
 * - nodejs_eventloop_delay_max_seconds, nodejs_eventloop_delay_p99_seconds (since the previous scrape)
 */
export function registerProcessMetrics(meter: Meter): () => void {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const startSeconds = performance.timeOrigin / 1000;
  const cpu = meter.createObservableCounter('process_cpu_seconds_total', {
    description: 'User and system CPU time spent by the process.',
  });
  const rss = meter.createObservableGauge('process_resident_memory_bytes', { description: 'Resident set size.' });
  const start = meter.createObservableGauge('process_start_time_seconds', {
    description: 'Start time of the process since the Unix epoch.',
  });
  const heap = meter.createObservableGauge('nodejs_heap_used_bytes', { description: 'V8 heap in use.' });
  const heapTotal = meter.createObservableGauge('nodejs_heap_size_total_bytes', {
    description: 'V8 heap reserved (used or not).',
  });
  const external = meter.createObservableGauge('nodejs_external_memory_bytes', {
    description: 'Memory held outside the V8 heap by JavaScript objects (buffers included).',
  });
  const delayMax = meter.createObservableGauge('nodejs_eventloop_delay_max_seconds', {
    description: 'Longest event-loop delay since the previous scrape.',
  });
  const delayP99 = meter.createObservableGauge('nodejs_eventloop_delay_p99_seconds', {
    description: '99th percentile event-loop delay since the previous scrape.',
  });
  const instruments = [cpu, rss, start, heap, heapTotal, external, delayMax, delayP99];
  const collect = (result: BatchObservableResult): void => {
    const usage = process.cpuUsage();
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    const mem = process.memoryUsage();
    result.observe(rss, mem.rss);
    result.observe(start, startSeconds);
    result.observe(heap, mem.heapUsed);
    result.observe(heapTotal, mem.heapTotal);
    result.observe(external, mem.external);
    result.observe(delayMax, loop.max / 1e9);
    result.observe(delayP99, loop.percentile(99) / 1e9);
    loop.reset();
  };
  meter.addBatchObservableCallback(collect, instruments);
  return () => {
    meter.removeBatchObservableCallback(collect, instruments);
    loop.disable();
  };
}
