// Integration harness: real NATS on a random subject root and stream prefix, a writer (in this process or as a
// child process) on its own temp chdb directory, and a publisher. Streams and directories are removed at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectBus, ensureStream, Publisher, streamSpec } from '@kec/bus';
import { loadConfig } from '@kec/config';
import { ChdbStore, embeddedDir, type Store } from '@kec/store';
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import type { KecEventsPayload } from '../src/contract.ts';
import { retentionOf, Writer, writerConfig } from '../src/index.ts';

export const NATS_URL = process.env.KEC_NATS_URL ?? 'nats://127.0.0.1:4222';
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');

export interface Harness {
  id: string;
  bus: Bus;
  prefix: string;
  dataDir: string;
  publisher: Publisher;
  /** KEC_* env for a writer of this test. */
  env: Record<string, string>;
  publishEvents(events: readonly KecEventsPayload[]): Promise<void>;
  /** Messages of the writer's durable on a stream not yet acked (pending + ack pending). */
  unacked(stream?: string): Promise<number>;
  /** A writer in this process (chdb in this process). */
  startWriter(env?: Record<string, string>): Promise<Writer>;
  /** A writer as a child process (`node src/main.ts`); resolves when spawned. */
  spawnWriter(env?: Record<string, string>): ChildProcess;
  /** Opens the embedded store in this process (only when no writer holds it). */
  openStore(): Promise<ChdbStore>;
  cleanup(): Promise<void>;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function harness(): Promise<Harness> {
  const id = randomBytes(4).toString('hex');
  const root = `t${id}`;
  const prefix = `T${id}_`;
  const dataDir = mkdtempSync(join(tmpdir(), `kec-writer-${id}-`));
  const bus = await connectBus({ url: NATS_URL, name: `writer-test-${id}`, root, logger: pino({ level: 'silent' }) });
  const streams = ['KEC_EVENTS', 'KEC_INCIDENTS', 'KEC_GAPS', 'KEC_PATTERNS', 'KEC_DLQ'];
  for (const s of streams) {
    await ensureStream(bus.jsm, streamSpec(s, root, prefix, { overrides: { [s]: { max_bytes: 256 * 1024 * 1024 } } }));
  }
  const publisher = new Publisher(bus, { window: 256 });
  const writers: Writer[] = [];
  const children = new Set<ChildProcess>();
  const env: Record<string, string> = {
    KEC_NATS_URL: NATS_URL,
    KEC_DATA_DIR: dataDir,
    KEC_METRICS_PORT: '0',
    KEC_LOG_LEVEL: 'warn',
    KEC_WRITER_SUBJECT_ROOT: root,
    KEC_WRITER_STREAM_PREFIX: prefix,
    KEC_WRITER_BATCH_WAIT_MS: '200',
    KEC_WRITER_NAK_DELAY_MS: '200',
    KEC_WRITER_MAX_NAK_DELAY_MS: '1000',
    KEC_WRITER_STORE_RETRY_MS: '250',
    KEC_WRITER_ACK_WAIT_MS: '5000',
  };
  const h: Harness = {
    id,
    bus,
    prefix,
    dataDir,
    publisher,
    env,
    async publishEvents(events) {
      await Promise.all(
        events.map((e) =>
          publisher.publish(bus.subjects.events(e.cluster, e.namespace, e.regarding.kind, e.type, e.reason), e, {
            msgId: `${e.cluster}/${e.uid}/${e.resourceVersion}`,
          }),
        ),
      );
      await publisher.flush();
    },
    async unacked(stream = 'KEC_EVENTS') {
      try {
        const info = await bus.jsm.consumers.info(`${prefix}${stream}`, 'writer');
        return info.num_pending + info.num_ack_pending;
      } catch {
        return Number.POSITIVE_INFINITY;
      }
    },
    async startWriter(extra = {}) {
      const e = { ...env, ...extra };
      const cfg = loadConfig(writerConfig, { env: e });
      const w = new Writer({
        cfg,
        bus,
        logger: pino({ level: 'silent' }),
        meter: metrics.getMeter('writer-test'),
        retention: retentionOf(cfg),
        streamPrefix: prefix,
        openStore: () => ChdbStore.open({ dataDir: embeddedDir(dataDir) }),
      });
      writers.push(w);
      await w.start();
      return w;
    },
    spawnWriter(extra = {}) {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, ...env, ...extra },
        // chdb writes engine messages (e.g. "Cannot lock file" while the directory is held) straight to fd 2.
        stdio: ['ignore', 'ignore', process.env.KEC_TEST_VERBOSE ? 'inherit' : 'ignore'],
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    openStore() {
      return ChdbStore.open({ dataDir: embeddedDir(dataDir) });
    },
    async cleanup() {
      for (const w of writers) await w.stop().catch(() => {});
      for (const c of children) c.kill('SIGKILL');
      for (const s of streams) await bus.jsm.streams.delete(`${prefix}${s}`).catch(() => {});
      await bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Exit of a child process (code or signal). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function counts(
  store: Store,
): Promise<{ events: number; occ_final: number; sum_final: number; rollup: number }> {
  const [r] = await store.query<{ events: number; occ_final: number; sum_final: number; rollup: number }>(
    `SELECT (SELECT count() FROM kec.events FINAL) AS events,
            (SELECT count() FROM kec.occurrences FINAL) AS occ_final,
            (SELECT sum(occurrences) FROM kec.occurrences FINAL) AS sum_final,
            (SELECT sum(occurrences) FROM kec.events_per_minute) AS rollup`,
  );
  if (!r) throw new Error('no counts');
  return r;
}
