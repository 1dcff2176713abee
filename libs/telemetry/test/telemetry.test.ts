import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { isatty } from 'node:tty';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { createLogger, prettyLogs, startTelemetry, type Telemetry } from '../src/index.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } };
}

async function get(t: Telemetry, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${t.port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('telemetry', { concurrency: false }, () => {
  const logs = capture();
  const logger = createLogger({ service: 'ttest', cluster: 'c1', level: 'debug', destination: logs.destination });
  let t: Telemetry | undefined;
  after(async () => {
    await t?.close();
  });

  test('telemetry - starts on a free port and logs it', async () => {
    t = await startTelemetry({ service: 'ttest', port: 0, host: '127.0.0.1', logger });
    assert.ok(t.port > 0);
    const line = logs.lines.find((l) => l['msg'] === 'telemetry listening');
    assert.equal(line?.['port'], t.port);
  });

  test('telemetry - /metrics shows a counter incremented through the meter', async () => {
    const name = `kec_ttest_things_${Math.random().toString(36).slice(2, 8)}_total`;
    t!.meter.createCounter(name, { description: 'things seen' }).add(7, { kind: 'a' });
    const { status, body } = await get(t!, '/metrics');
    assert.equal(status, 200);
    assert.match(body, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    assert.match(body, new RegExp(`^${name}\\{kind="a"\\} 7$`, 'm'));
    assert.match(body, /^target_info\{service_name="ttest"\} 1$/m);
  });

  test('telemetry - process metrics are exported', async () => {
    const { body } = await get(t!, '/metrics');
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(body)?.[1]);
    assert.ok(rss > 1_000_000, `rss ${rss}`);
    const start = Number(/^process_start_time_seconds (\S+)$/m.exec(body)?.[1]);
    assert.ok(Math.abs(start - performance.timeOrigin / 1000) < 1, `start ${start}`);
    assert.match(body, /^process_cpu_seconds_total \d/m);
    assert.match(body, /^nodejs_eventloop_delay_p99_seconds \S+$/m);
  });

  test('telemetry - the global meter provider reaches libraries using @opentelemetry/api', async () => {
    metrics.getMeter('some-library').createCounter('kec_lib_calls_total').add(2);
    const { body } = await get(t!, '/metrics');
    assert.match(body, /^kec_lib_calls_total 2$/m);
  });

  test('telemetry - *_seconds histograms use second-scale buckets', async () => {
    t!.meter.createHistogram('kec_ttest_step_seconds', { unit: 's' }).record(0.03);
    const { body } = await get(t!, '/metrics');
    assert.match(body, /^kec_ttest_step_seconds_bucket\{le="0.025"\} 0$/m);
    assert.match(body, /^kec_ttest_step_seconds_bucket\{le="0.05"\} 1$/m);
  });

  test('telemetry - /healthz flips with registered checks', async () => {
    assert.deepEqual(await get(t!, '/healthz'), { status: 200, body: '{"status":"ok"}\n' });
    let stuck: string | undefined = 'watch stalled for 120s';
    const remove = t!.registerHealthCheck('watch', () => stuck);
    t!.registerHealthCheck('throws', () => {
      throw new Error('boom');
    });
    const bad = await get(t!, '/healthz');
    assert.equal(bad.status, 503);
    assert.deepEqual(JSON.parse(bad.body), {
      status: 'unhealthy',
      reasons: { watch: 'watch stalled for 120s', throws: 'check threw: boom' },
    });
    t!.registerHealthCheck('throws', () => undefined); // replaces by name
    stuck = undefined;
    assert.equal((await get(t!, '/healthz')).status, 200);
    stuck = 'again';
    assert.equal((await get(t!, '/healthz')).status, 503);
    remove();
    assert.equal((await get(t!, '/healthz')).status, 200);
  });

  test('telemetry - /readyz is 200 only when every source is ready', async () => {
    assert.equal((await get(t!, '/readyz')).status, 200);
    let a: string | undefined = 'connecting to NATS';
    let b: string | undefined = 'cache warming';
    t!.setReadiness('a', () => a);
    const removeB = t!.setReadiness('b', () => b);
    const r1 = await get(t!, '/readyz');
    assert.equal(r1.status, 503);
    assert.deepEqual(JSON.parse(r1.body), {
      status: 'not ready',
      reasons: { a: 'connecting to NATS', b: 'cache warming' },
    });
    a = undefined;
    assert.deepEqual(JSON.parse((await get(t!, '/readyz')).body), {
      status: 'not ready',
      reasons: { b: 'cache warming' },
    });
    b = undefined;
    assert.equal((await get(t!, '/readyz')).status, 200);
    b = 'lost';
    assert.equal((await get(t!, '/readyz')).status, 503);
    removeB();
    assert.equal((await get(t!, '/readyz')).status, 200);
  });

  test('telemetry - unknown paths are 404, other methods 405', async () => {
    assert.equal((await get(t!, '/nope')).status, 404);
    const res = await fetch(`http://127.0.0.1:${t!.port}/metrics`, { method: 'POST' });
    assert.equal(res.status, 405);
  });

  test('telemetry - spans nest through async code and propagate as W3C traceparent', async () => {
    await t!.tracer.startActiveSpan('outer', async (span) => {
      await new Promise((r) => setImmediate(r));
      assert.equal(trace.getActiveSpan()?.spanContext().spanId, span.spanContext().spanId);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      assert.match(
        carrier['traceparent'] ?? '',
        new RegExp(`^00-${span.spanContext().traceId}-${span.spanContext().spanId}-0[01]$`),
      );
      const extracted = propagation.extract(context.active(), carrier);
      assert.equal(trace.getSpanContext(extracted)?.traceId, span.spanContext().traceId);
      span.end();
    });
  });

  test('telemetry - one per process; close frees the port and the globals', async () => {
    await assert.rejects(
      startTelemetry({ service: 'x', port: 0, logger }),
      /telemetry is already running in this process/,
    );
    const port = t!.port;
    await t!.close();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    t = await startTelemetry({ service: 'again', port: 0, host: '127.0.0.1', logger });
    metrics.getMeter('lib').createCounter('kec_after_restart_total').add(1);
    assert.match((await get(t, '/metrics')).body, /^kec_after_restart_total 1$/m);
  });

  test('telemetry - a port in use fails the start and leaves nothing registered', async () => {
    await t!.close();
    t = undefined;
    const { createServer } = await import('node:http');
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(startTelemetry({ service: 'y', port, host: '127.0.0.1', logger }), /EADDRINUSE/);
    } finally {
      holder.close();
    }
    t = await startTelemetry({ service: 'z', port: 0, host: '127.0.0.1', logger });
    assert.ok(t.port > 0);
  });
});

describe('logger', () => {
  test('logger - JSON lines carry service, cluster, level name and error causes', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'watcher', cluster: 'prod', level: 'info', destination });
    log.debug('hidden');
    log.error({ err: new Error('publish failed', { cause: new Error('NATS timeout') }) }, 'batch lost');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line['service'], 'watcher');
    assert.equal(line['cluster'], 'prod');
    assert.equal(line['level'], 'error');
    assert.equal(line['msg'], 'batch lost');
    assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const err = line['err'] as { message: string; stack: string };
    assert.equal(err.message, 'publish failed: NATS timeout');
    assert.match(err.stack, /caused by: Error: NATS timeout/);
  });

  test('logger - pretty lines are one readable line per record: time, level, service, message, fields', () => {
    const out: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = createLogger({ service: 'watcher', cluster: 'prod', format: 'pretty', colorize: false, destination });
    log.info({ startMs: 812 }, 'service running');
    log.debug('hidden');
    assert.equal(out.length, 1);
    assert.match(out[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: watcher: service running \{"startMs":812\}\n$/);
  });

  test('logger - auto is pretty only for a terminal; json and an explicit destination mean JSON', () => {
    assert.equal(prettyLogs('pretty'), true);
    assert.equal(prettyLogs('json'), false);
    assert.equal(prettyLogs('auto'), isatty(1));
    assert.equal(prettyLogs('auto', capture().destination), false);
  });
});
