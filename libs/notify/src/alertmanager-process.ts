// Runs a real Alertmanager (Debian's prometheus-alertmanager, installed by `./dev setup`) on 127.0.0.1 with its own
// config and data directory: for tests (the notifier's and the alerter's end-to-end test) and the demo.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AlertmanagerOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Binary (default `prometheus-alertmanager`, else `alertmanager`, from PATH). */
  binary?: string;
  /**
   * The whole config (written as JSON, which YAML reads). Default: one route to `webhookUrl` (when given, else a
   * receiver without integrations), grouped by alertname, namespace with `groupWait`/`groupInterval`.
   */
  config?: Record<string, unknown>;
  /** Where Alertmanager's webhook receiver posts (Alertmanager's webhook payload, version 4). */
  webhookUrl?: string;
  groupBy?: string[];
  /** Default 1s. */
  groupWait?: string;
  /** Default 2s. */
  groupInterval?: string;
  /** Default 1h. */
  repeatInterval?: string;
  /** Data directory (default a new temporary one, removed by stop()). */
  dataDir?: string;
  /** Alertmanager's log level (default warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for /-/ready (default 20 s). */
  readyTimeoutMs?: number;
}

export interface AlertmanagerProcess {
  /** Base URL, e.g. http://127.0.0.1:39123 */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Alertmanager's stderr so far (its logs), for failure messages. */
  logs(): string;
  /** `GET /api/v2/alerts` (query e.g. `active=true&filter=namespace%3D%22shop%22`). */
  alerts(query?: string): Promise<AlertmanagerAlert[]>;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes a temporary data dir. Idempotent. */
  stop(): Promise<void>;
}

/** `gettableAlert` of Alertmanager's OpenAPI (the fields kec reads). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL?: string;
  fingerprint: string;
  receivers: Array<{ name: string }>;
  status: { state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function defaultConfig(o: AlertmanagerOptions): Record<string, unknown> {
  const receiver = o.webhookUrl
    ? { name: 'default', webhook_configs: [{ url: o.webhookUrl, send_resolved: true }] }
    : { name: 'default' };
  return {
    route: {
      receiver: 'default',
      group_by: o.groupBy ?? ['alertname', 'namespace'],
      group_wait: o.groupWait ?? '1s',
      group_interval: o.groupInterval ?? '2s',
      repeat_interval: o.repeatInterval ?? '1h',
    },
    receivers: [receiver],
  };
}

async function which(names: string[]): Promise<string> {
  const { access, constants } = await import('node:fs/promises');
  for (const n of names) {
    for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
      try {
        await access(join(dir, n), constants.X_OK);
        return join(dir, n);
      } catch {
        // next
      }
    }
  }
  throw new Error(
    `Alertmanager not found (looked for ${names.join(', ')}); run ./dev setup (apt-get install prometheus-alertmanager)`,
  );
}

/** Starts Alertmanager and waits until `/-/ready` answers 200. Rejects (with its logs) when it does not come up. */
export async function startAlertmanager(opts: AlertmanagerOptions = {}): Promise<AlertmanagerProcess> {
  const binary = opts.binary ?? (await which(['prometheus-alertmanager', 'alertmanager']));
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'kec-alertmanager-'));
  const configFile = join(dataDir, 'alertmanager.yml');
  writeFileSync(configFile, JSON.stringify(opts.config ?? defaultConfig(opts), null, 2));
  let lastError: Error | undefined;
  // A free port can be taken between the probe and Alertmanager's bind: try a few.
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    const port = opts.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    let stderr = '';
    const child: ChildProcess = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        `--log.level=${opts.logLevel ?? 'warn'}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        stderr += String(err);
        exited = { code: -1, signal: null };
        resolve();
      });
    });
    const stop = async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exit;
        clearTimeout(t);
      }
    };
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    let ready = false;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        await res.text();
        if (res.ok) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) {
      let stopped: Promise<void> | undefined;
      return {
        url,
        port,
        dataDir,
        pid: child.pid,
        logs: () => stderr,
        async alerts(query = '') {
          const res = await fetch(`${url}/api/v2/alerts${query ? `?${query}` : ''}`);
          if (!res.ok) throw new Error(`GET /api/v2/alerts: HTTP ${res.status}: ${await res.text()}`);
          return (await res.json()) as AlertmanagerAlert[];
        },
        stop() {
          stopped ??= (async () => {
            await stop();
            if (ownDir) rmSync(dataDir, { recursive: true, force: true });
          })();
          return stopped;
        },
      };
    }
    await stop();
    lastError = new Error(
      `Alertmanager did not become ready on ${url}${exited ? ` (exited ${exited.code ?? exited.signal})` : ''}: ${stderr.trim().slice(-2000)}`,
    );
    if (!/address already in use/.test(stderr)) break;
  }
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  throw lastError ?? new Error('Alertmanager did not start');
}
