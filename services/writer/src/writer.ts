// The writer stage: durable consumers of KEC_EVENTS, KEC_INCIDENTS, KEC_GAPS and KEC_PATTERNS shared by every
// replica; batches by size and time; one insert per table per batch; acks only after the inserts returned;
// naks with backoff on store errors so JetStream keeps the backlog.
import { createHash } from 'node:crypto';
import {
  type BatchResult,
  type Bus,
  type BusMessage,
  type ConsumerHandle,
  type ConsumerWindow,
  consume,
  consumerSpec,
  consumerWindow,
  ensureConsumer,
  ensureStream,
  formatConsumerWindow,
  streamSpec,
  sumWindows,
} from '@kec/bus';
import { GapRecordValidator } from '@kec/model';
import type { ServiceSummary } from '@kec/runtime';
import { migrate, type Retention, type Store, StoreError, StoreQueryError } from '@kec/store';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Validator } from 'typebox/compile';
import type { WriterConfig } from './config.ts';
import {
  IncidentPayloadValidator,
  type KecEventsPayload,
  KecEventsPayloadValidator,
  PatternPayloadValidator,
} from './contract.ts';
import { PayloadError } from './errors.ts';
import { eventBatchRows, gapRow, incidentRow, patternRow } from './rows.ts';

export interface TableInsert {
  table: string;
  rows: object[];
}

/** One input: a stream, the subjects it holds, how to validate its payload and turn a batch into inserts. */
export interface WriterInput {
  stream: string;
  subjectKind: 'events' | 'incidents' | 'gaps' | 'patterns';
  validator: Validator;
  toInserts(payloads: unknown[]): TableInsert[];
}

export const WRITER_INPUTS: readonly WriterInput[] = [
  {
    stream: 'KEC_EVENTS',
    subjectKind: 'events',
    validator: KecEventsPayloadValidator,
    toInserts(payloads) {
      const { events, occurrences } = eventBatchRows(payloads as KecEventsPayload[]);
      return [
        { table: 'events', rows: events },
        { table: 'occurrences', rows: occurrences },
      ];
    },
  },
  {
    stream: 'KEC_INCIDENTS',
    subjectKind: 'incidents',
    validator: IncidentPayloadValidator,
    toInserts: (p) => [{ table: 'incidents', rows: p.map((x) => incidentRow(x as never)) }],
  },
  {
    stream: 'KEC_GAPS',
    subjectKind: 'gaps',
    validator: GapRecordValidator,
    toInserts: (p) => [{ table: 'gaps', rows: p.map((x) => gapRow(x as never)) }],
  },
  {
    stream: 'KEC_PATTERNS',
    subjectKind: 'patterns',
    validator: PatternPayloadValidator,
    toInserts: (p) => [{ table: 'patterns', rows: p.map((x) => patternRow(x as never)) }],
  },
];

/**
 * The dedup token of a batch for one table: a hash of the stream and the sorted stream sequences. A batch
 * redelivered with the same messages (after a lost response or a crash before the ack) gets the same token, and
 * the server drops the repeated insert together with its materialized-view blocks. Re-batched messages get a
 * new token; the tables collapse them anyway (see README "Why nothing is counted twice").
 */
export function batchToken(stream: string, table: string, sequences: readonly number[]): string {
  const h = createHash('sha256');
  h.update(`${stream}\n${table}\n`);
  h.update([...sequences].sort((a, b) => a - b).join(','));
  return `kec-${h.digest('hex').slice(0, 40)}`;
}

export interface WriterDeps {
  cfg: WriterConfig;
  /** KEC_CLICKHOUSE_CLUSTER: migrate with the cluster DDL (Replicated local tables + Distributed tables). */
  clickhouseCluster?: string | undefined;
  /** KEC_STREAM_REPLICAS: replicas of the input streams when the writer creates or updates them (default 1). */
  streamReplicas?: number;
  bus: Bus;
  logger: Logger;
  meter: Meter;
  /** Opens the store (called again after a failure until it succeeds). */
  openStore(): Promise<Store>;
  retention: Retention;
  /** Stream name prefix (tests). */
  streamPrefix?: string;
  inputs?: readonly WriterInput[];
}

export type WriterState = 'starting' | 'running' | 'draining' | 'stopped';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export class Writer {
  #deps: WriterDeps;
  #store: Store | undefined;
  #handles: ConsumerHandle[] = [];
  #state: WriterState = 'starting';
  #waiting = 'store not open yet';
  #batches = 0;
  #abort = new AbortController();
  #started: Promise<void> | undefined;
  #m;

  constructor(deps: WriterDeps) {
    this.#deps = deps;
    const meter = deps.meter;
    this.#m = {
      rows: meter.createCounter('kec_writer_rows_written_total', { description: 'Rows inserted, by table' }),
      batches: meter.createCounter('kec_writer_batches_total', { description: 'Batches acked, by stream' }),
      insertSeconds: meter.createHistogram('kec_writer_insert_duration_seconds', {
        description: 'Duration of one insert (retries included), by table',
        unit: 's',
      }),
      failures: meter.createCounter('kec_writer_insert_failures_total', {
        description: 'Failed inserts (the batch is nak-ed or split), by table and retryable',
      }),
      rejected: meter.createCounter('kec_writer_messages_rejected_total', {
        description: 'Messages dead-lettered (invalid payload or a row the store refuses), by stream',
      }),
      batchSize: meter.createHistogram('kec_writer_batch_messages', { description: 'Messages per batch, by stream' }),
      storeUp: meter.createObservableGauge('kec_writer_store_up', {
        description: '1 while the store is open and the last insert succeeded',
      }),
    };
    this.#m.storeUp.addCallback((r) => r.observe(this.#store && this.#lastInsertOk ? 1 : 0));
  }

  #lastInsertOk = true;
  /** Rows inserted per table since the previous summary. */
  #rowsWin: Record<string, number> = {};
  #windows: { stream: string; next: () => Promise<ConsumerWindow> }[] = [];

  /** Messages in per stream and rows stored per table since the previous call: the minute's summary line. */
  async summary(): Promise<ServiceSummary | undefined> {
    if (this.#state !== 'running') return undefined;
    const ws = await Promise.all(this.#windows.map(async (w) => ({ stream: w.stream, w: await w.next() })));
    const rows = this.#rowsWin;
    this.#rowsWin = {};
    const w = sumWindows(ws.map((x) => x.w));
    const n = (v: number) => v.toLocaleString('en-US');
    const stored = Object.entries(rows)
      .map(([t, r]) => `${n(r)} ${t}`)
      .join(', ');
    return {
      msg: `${formatConsumerWindow(w)} (${ws.map((x) => `${x.stream} ${n(x.w.processed)}`).join(', ')}); rows stored: ${stored || 'none'}`,
      in: w.processed,
      rows,
      failed: w.failed,
      deadLettered: w.deadLettered,
      pending: w.pending,
    };
  }

  get state(): WriterState {
    return this.#state;
  }

  /** Batches stored and acked by this replica. */
  get batches(): number {
    return this.#batches;
  }

  get store(): Store | undefined {
    return this.#store;
  }

  /** Undefined when ready; otherwise what it waits for. */
  readiness(): string | undefined {
    return this.#state === 'running' ? undefined : this.#waiting;
  }

  /**
   * Starts in the background: opens the store (retrying every storeRetryMs while it is unavailable; the backlog
   * waits in JetStream meanwhile), migrates, provisions the consumers, consumes. `ready` resolves once consuming.
   */
  start(): Promise<void> {
    this.#started ??= this.#run();
    return this.#started;
  }

  async #run(): Promise<void> {
    const { cfg, logger: log } = this.#deps;
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const store = await this.#deps.openStore();
        if (cfg.migrate) {
          this.#waiting = 'migrating';
          try {
            const r = await migrate(store, {
              retention: this.#deps.retention,
              logger: log,
              cluster: this.#deps.clickhouseCluster,
            });
            log.info(r, 'schema up to date');
          } catch (err) {
            await store.close();
            throw err;
          }
        }
        this.#store = store;
        break;
      } catch (err) {
        attempt++;
        this.#waiting = `store unavailable: ${(err as Error).message}`;
        const retryable = err instanceof StoreError ? err.retryable : true;
        log.warn({ err, attempt, retryable }, 'cannot open the store; backlog stays in JetStream; retrying');
        await sleep(cfg.storeRetryMs, signal);
      }
    }
    if (signal.aborted) return;
    this.#waiting = 'provisioning consumers';
    const { bus } = this.#deps;
    for (const input of this.#deps.inputs ?? WRITER_INPUTS) {
      const stream = `${this.#deps.streamPrefix ?? ''}${input.stream}`;
      // A configured max_bytes (as the correlator and watcher have) keeps the writer from growing their streams back
      // to the catalogue size, which fails on a JetStream server without that much storage to reserve.
      const maxBytes = cfg.streamMaxBytes;
      await ensureStream(
        bus.jsm,
        streamSpec(input.stream, bus.root, this.#deps.streamPrefix ?? '', {
          ...(maxBytes ? { overrides: { [input.stream]: { max_bytes: maxBytes } } } : {}),
          replicas: this.#deps.streamReplicas ?? 1,
        }),
      );
      await ensureConsumer(
        bus.jsm,
        stream,
        consumerSpec(cfg.durable, {
          filterSubject: bus.subjects.all(input.subjectKind),
          ackWaitMs: cfg.ackWaitMs,
          maxDeliver: -1,
          maxAckPending: cfg.maxAckPending,
          description: 'kec writer: stores into ClickHouse',
        }),
      );
      if (signal.aborted) return;
      const handle = await consume({
        bus,
        stream,
        durable: cfg.durable,
        dlq: { stage: 'writer' },
        // Store errors never dead-letter: the backlog stays in JetStream until the store is back.
        maxDeliver: Number.MAX_SAFE_INTEGER,
        nakDelayMs: cfg.nakDelayMs,
        maxNakDelayMs: cfg.maxNakDelayMs,
        batch: { maxMessages: cfg.batchSize, maxWaitMs: cfg.batchWaitMs },
        handler: (msgs: BusMessage[]) => this.#handleBatch(input, stream, msgs),
      });
      this.#handles.push(handle);
      this.#windows.push({ stream: input.stream, next: consumerWindow(handle) });
    }
    this.#state = 'running';
    log.debug({ durable: cfg.durable, batchSize: cfg.batchSize, batchWaitMs: cfg.batchWaitMs }, 'writer consuming');
  }

  async #handleBatch(input: WriterInput, stream: string, msgs: BusMessage[]): Promise<BatchResult | undefined> {
    const store = this.#store;
    if (!store) throw new StoreError('store not open', { retryable: true });
    const deadLetter: Array<{ message: BusMessage; error: unknown }> = [];
    const good: Array<{ message: BusMessage; payload: unknown }> = [];
    for (const message of msgs) {
      try {
        const payload = message.json();
        if (!input.validator.Check(payload)) {
          const first = input.validator.Errors(payload)[0];
          throw new PayloadError(
            `${input.stream} payload invalid at ${first?.instancePath || '/'}: ${first?.message ?? 'does not match the schema'}`,
          );
        }
        good.push({ message, payload });
      } catch (error) {
        deadLetter.push({ message, error });
      }
    }
    if (deadLetter.length > 0) this.#m.rejected.add(deadLetter.length, { stream: input.stream });
    this.#m.batchSize.record(msgs.length, { stream: input.stream });
    await this.#insertAll(store, input, stream, good, deadLetter);
    this.#batches++;
    const crashAfter = this.#deps.cfg.testCrashAfterInserts;
    if (crashAfter > 0 && this.#batches >= crashAfter) {
      this.#deps.logger.warn({ batches: this.#batches }, 'testCrashAfterInserts: SIGKILL before ack');
      process.kill(process.pid, 'SIGKILL');
    }
    this.#m.batches.add(1, { stream: input.stream });
    return deadLetter.length > 0 ? { deadLetter } : undefined;
  }

  /**
   * Inserts the rows of `good`, one insert per table. A store error that is not retryable (the server refuses a
   * row) splits the batch in halves to isolate the message, which is then dead-lettered; a retryable one throws,
   * and the consumer naks the whole batch with backoff.
   */
  async #insertAll(
    store: Store,
    input: WriterInput,
    stream: string,
    good: Array<{ message: BusMessage; payload: unknown }>,
    deadLetter: Array<{ message: BusMessage; error: unknown }>,
  ): Promise<void> {
    if (good.length === 0) return;
    const seqs = good.map((g) => g.message.streamSequence);
    try {
      for (const { table, rows } of input.toInserts(good.map((g) => g.payload))) {
        if (rows.length === 0) continue;
        const t0 = performance.now();
        try {
          await store.insert(table, rows, { token: batchToken(stream, table, seqs) });
          this.#lastInsertOk = true;
        } catch (err) {
          this.#lastInsertOk = !(err instanceof StoreError && err.retryable);
          this.#m.failures.add(1, { table, retryable: String(err instanceof StoreError && err.retryable) });
          throw err;
        }
        this.#m.insertSeconds.record((performance.now() - t0) / 1000, { table });
        this.#m.rows.add(rows.length, { table });
        this.#rowsWin[table] = (this.#rowsWin[table] ?? 0) + rows.length;
      }
    } catch (err) {
      const refused = err instanceof StoreQueryError && !err.retryable;
      if (!refused) throw err;
      if (good.length === 1 && good[0]) {
        deadLetter.push({ message: good[0].message, error: err });
        this.#m.rejected.add(1, { stream: input.stream });
        return;
      }
      this.#deps.logger.warn({ err, messages: good.length }, 'store refused the batch; splitting it to find the row');
      const half = Math.ceil(good.length / 2);
      await this.#insertAll(store, input, stream, good.slice(0, half), deadLetter);
      await this.#insertAll(store, input, stream, good.slice(half), deadLetter);
    }
  }

  /** Stops consuming (in-flight batches finish and are acked), then closes the store. */
  async stop(): Promise<void> {
    this.#state = 'draining';
    this.#waiting = 'draining';
    this.#abort.abort();
    await this.#started?.catch(() => {});
    for (const h of this.#handles) await h.stop();
    this.#handles = [];
    await this.#store?.close();
    this.#store = undefined;
    this.#state = 'stopped';
  }
}
