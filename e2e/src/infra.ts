// Private infrastructure for the fault suite (never the shared NATS/Redis on the default ports): a nats-server -js
// and a redis-server (AOF on, so a stop keeps the correlator's state, as production Redis must) on free ports.
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, waitFor } from './harness.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A server process that can be stopped and started again on the same port and data directory. */
export class PrivateServer {
  readonly kind: 'nats' | 'redis';
  readonly port: number;
  readonly dir: string;
  proc: Proc | undefined;

  private constructor(kind: 'nats' | 'redis', port: number) {
    this.kind = kind;
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), `kec-e2e-${kind}-`));
  }

  static async create(kind: 'nats' | 'redis'): Promise<PrivateServer> {
    const s = new PrivateServer(kind, await freePort());
    await s.start();
    return s;
  }

  get url(): string {
    return this.kind === 'nats' ? `nats://127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args =
      this.kind === 'nats'
        ? ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir]
        : ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', ''];
    this.proc = new Proc(this.kind, this.kind === 'nats' ? 'nats-server' : 'redis-server', args, process.env);
    await waitFor(`${this.kind} on ${this.port}`, () => reachable(this.port), 20_000, 50);
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', 10_000);
    await waitFor(`${this.kind} down`, async () => !(await reachable(this.port)), 10_000, 50);
  }
}
