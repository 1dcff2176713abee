// The pipeline as OS processes: two watchers (Lease election), N enrichers, N correlators and N writers, each writer
// with the sql service in its process; or, with `fused`, N enrichers that correlate in process
// (KEC_ENRICHER_CORRELATE=true) and no correlator. One writer may use the embedded store; several share one ClickHouse engine
// through the HTTP backend, served by tools/chdb-http in its own process (see README "Writer replicas").
import { join } from 'node:path';
import { type Isolation, type KecProc, kecEnv, Proc, ROOT, ready, startKec, WaitAborted, waitFor } from './harness.ts';

const CHDB_HTTP_MAIN = join(ROOT, 'tools/chdb-http/src/main.ts');

/** tools/chdb-http on the run's data directory: one ClickHouse engine that several writer processes share. */
export class StoreServer {
  readonly dataDir: string;
  proc: Proc | undefined;
  url = '';
  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }
  /** Starts it (again on the same port after a stop, so the writers' KEC_CLICKHOUSE_URL stays right). */
  async start(): Promise<void> {
    const port = this.url ? new URL(this.url).port : '0';
    this.proc = new Proc(
      'chdb-http',
      process.execPath,
      [CHDB_HTTP_MAIN, '--data-dir', this.dataDir, '--port', port],
      process.env,
    );
    const [, url] = await this.proc.waitOutput(/chdb-http listening on (\S+)/, 60_000);
    this.url = url as string;
  }
  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.stop(sig, 20_000);
  }
}

export interface PipelineOptions {
  watchers?: number;
  enrichers?: number;
  /** Correlator replicas (default 2; none with `fused`). */
  correlators?: number;
  /** The fused mode: every enricher correlates in process (KEC_ENRICHER_CORRELATE=true). */
  fused?: boolean;
  /** Writer replicas (default 1). More than one share a StoreServer through the HTTP backend. */
  writers?: number;
  /** One writer on a StoreServer too (the HTTP backend, as with a ClickHouse server) instead of the embedded store. */
  httpStore?: boolean;
  /** Extra env for every process (e.g. short lease settings). */
  extra?: Record<string, string>;
  /** Extra env per service name. */
  perService?: Record<string, Record<string, string>>;
  /** Services beside the writer in its process (default: sql). */
  withWriter?: string[];
}

export class Pipeline {
  readonly iso: Isolation;
  readonly kubeconfig: string;
  readonly procs: KecProc[] = [];
  readonly opts: PipelineOptions;
  /** The shared store when there is more than one writer. */
  readonly store: StoreServer | undefined;

  constructor(iso: Isolation, kubeconfig: string, opts: PipelineOptions = {}) {
    this.iso = iso;
    this.kubeconfig = kubeconfig;
    this.opts = opts;
    if ((opts.writers ?? 1) > 1 || opts.httpStore) this.store = new StoreServer(join(iso.dataDir, 'clickhouse-server'));
  }

  env(service: string): NodeJS.ProcessEnv {
    return kecEnv(this.iso, this.kubeconfig, {
      KEC_SQL_MAX_ROWS: '1000000',
      // Short leases so a killed leader is replaced within seconds (defaults: 15 s / 10 s / 2 s).
      KEC_WATCHER_LEASE_DURATION_MS: '4000',
      KEC_WATCHER_RENEW_DEADLINE_MS: '3000',
      KEC_WATCHER_RETRY_PERIOD_MS: '500',
      KEC_ENRICHER_LEASE_DURATION_MS: '4000',
      KEC_ENRICHER_RENEW_DEADLINE_MS: '3000',
      KEC_ENRICHER_RETRY_PERIOD_MS: '500',
      KEC_WRITER_BATCH_WAIT_MS: '200',
      KEC_SHUTDOWN_GRACE_MS: '10000',
      ...(this.store ? { KEC_CLICKHOUSE_URL: this.store.url } : {}),
      ...(this.opts.fused && service === 'enricher' ? { KEC_ENRICHER_CORRELATE: 'true' } : {}),
      ...this.opts.extra,
      ...this.opts.perService?.[service],
    });
  }

  /** Starts one process of `service` (the writer runs with the sql service); resolves when it is ready. */
  async start(service: string, index: number): Promise<KecProc> {
    const services = service === 'writer' ? ['writer', ...(this.opts.withWriter ?? ['sql'])] : [service];
    const env = this.env(service);
    if (service === 'watcher' || service === 'enricher')
      env[`KEC_${service.toUpperCase()}_IDENTITY`] = `${service}-${index}`;
    const p = await startKec(`${service}-${index}`, services, env, {
      nodeOptions: [
        env.NODE_OPTIONS ?? '',
        service === 'watcher' ? '--max-old-space-size=64 --max-semi-space-size=1' : '',
      ]
        .join(' ')
        .trim(),
    });
    this.procs.push(p);
    return p;
  }

  async startAll(): Promise<void> {
    const o = this.opts;
    // The writer first: it provisions nothing others need, but its store takes longest to open and migrate.
    if (this.store && !this.store.proc) await this.store.start();
    const plan: [string, number][] = [
      ['writer', o.writers ?? 1],
      ['correlator', o.correlators ?? (o.fused ? 0 : 2)],
      ['enricher', o.enrichers ?? 2],
      ['watcher', o.watchers ?? 2],
    ];
    for (const [svc, n] of plan) {
      const started = await Promise.all(Array.from({ length: n }, (_, i) => this.start(svc, i)));
      // Each stage provisions the streams the next one consumes; start stage by stage.
      await Promise.all(
        started.map((p) =>
          waitFor(
            `${p.name} ready`,
            () => {
              if (!p.alive) throw new WaitAborted(`${p.name} exited ${p.exitCode}: ${p.output.slice(-3000)}`);
              return ready(p.metricsPort);
            },
            90_000,
          ),
        ),
      );
    }
  }

  get writer(): KecProc {
    const w = this.procs.find((p) => p.name.startsWith('writer-') && p.alive);
    if (!w) throw new Error('no writer running');
    return w;
  }

  byService(service: string): KecProc[] {
    return this.procs.filter((p) => p.name.startsWith(`${service}-`) && p.alive);
  }

  /** Replaces a dead process by a new one with the same name. */
  async restart(dead: KecProc): Promise<KecProc> {
    const [service, index] = dead.name.split('-') as [string, string];
    const i = this.procs.indexOf(dead);
    if (i >= 0) this.procs.splice(i, 1);
    const p = await this.start(service, Number(index));
    return p;
  }

  async stopAll(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    // Reverse pipeline order, so the writer drains last (an alerter or api started with start() stops before it).
    for (const svc of ['watcher', 'enricher', 'correlator', 'alerter', 'api', 'writer']) {
      await Promise.all(
        this.procs
          .filter((p) => p.name.startsWith(`${svc}-`))
          .map(async (p) => {
            codes[p.name] = await p.stop('SIGTERM', 20_000);
          }),
      );
    }
    await this.store?.stop();
    return codes;
  }
}
