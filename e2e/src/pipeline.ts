// The pipeline as OS processes: two watchers (Lease election), N enrichers, N correlators and one writer with the
// sql service in the same process (the embedded store belongs to one process; see README "Why one writer").
import { type Isolation, type KecProc, kecEnv, ready, startKec, WaitAborted, waitFor } from './harness.ts';

export interface PipelineOptions {
  watchers?: number;
  enrichers?: number;
  correlators?: number;
  /** Extra env for every process (e.g. short lease settings). */
  extra?: Record<string, string>;
  /** Extra env per service name. */
  perService?: Record<string, Record<string, string>>;
}

export class Pipeline {
  readonly iso: Isolation;
  readonly kubeconfig: string;
  readonly procs: KecProc[] = [];
  readonly opts: PipelineOptions;

  constructor(iso: Isolation, kubeconfig: string, opts: PipelineOptions = {}) {
    this.iso = iso;
    this.kubeconfig = kubeconfig;
    this.opts = opts;
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
      ...this.opts.extra,
      ...this.opts.perService?.[service],
    });
  }

  /** Starts one process of `service` (the writer runs with the sql service); resolves when it is ready. */
  async start(service: string, index: number): Promise<KecProc> {
    const services = service === 'writer' ? ['writer', 'sql'] : [service];
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
    const plan: [string, number][] = [
      ['writer', 1],
      ['correlator', o.correlators ?? 2],
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
    // Reverse pipeline order, so the writer drains last.
    for (const svc of ['watcher', 'enricher', 'correlator', 'writer']) {
      await Promise.all(
        this.procs
          .filter((p) => p.name.startsWith(`${svc}-`))
          .map(async (p) => {
            codes[p.name] = await p.stop('SIGTERM', 20_000);
          }),
      );
    }
    return codes;
  }
}
