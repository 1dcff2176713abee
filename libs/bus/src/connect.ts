// Connection to NATS + JetStream: one Bus per process, shared by publishers, consumers and KV.
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Meter, metrics } from '@opentelemetry/api';
import { type Logger, pino } from 'pino';
import { BusConnectError } from './errors.ts';
import { type NatsSecurity, parseServers, scrubSecrets, securityOptions } from './security.ts';
import { DEFAULT_ROOT, type Subjects, subjects } from './subjects.ts';

export interface ConnectBusOptions {
  /**
   * NATS URL(s), e.g. `nats://127.0.0.1:4222` (comma-separated for the nodes of a cluster; the client reconnects
   * across them). A `user:password@` in a URL is used unless `security.user` is set; a `tls://` URL requires TLS.
   */
  url: string;
  /** Credentials and TLS (see `natsSecurity` for the shared config keys). */
  security?: NatsSecurity;
  /** Connection name shown by the server (`nats server report connections`), e.g. the service name. */
  name: string;
  logger?: Logger;
  /** Subject root (default `kec`). Tests use a random root so they do not see each other's messages. */
  root?: string;
  /** Meter for the bus metrics; default the global `metrics.getMeter('kec-bus')`. */
  meter?: Meter;
  /** Reconnect backoff: first delay and cap in ms (default 250 and 2000, NATS's own wait, with ±20% jitter). */
  reconnectDelayMs?: { initial: number; max: number };
  /** Timeout of the first connection attempt in ms (default 5000). */
  timeoutMs?: number;
}

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kvm: Kvm;
  readonly subjects: Subjects;
  readonly root: string;
  readonly logger: Logger;
  readonly meter: Meter;
  /** Drains the connection: flushes pending publishes and acks, ends subscriptions, closes. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to NATS. The first connection must succeed (BusConnectError, retryable, otherwise); after that
 * the client reconnects forever with capped exponential backoff and logs every status change.
 */
export async function connectBus(opts: ConnectBusOptions): Promise<Bus> {
  const root = opts.root ?? DEFAULT_ROOT;
  const subj = subjects(root);
  const logger = (opts.logger ?? pino({ name: 'kec-bus' })).child({ component: 'bus', connection: opts.name });
  const initial = opts.reconnectDelayMs?.initial ?? 250;
  const max = opts.reconnectDelayMs?.max ?? 2_000;
  let attempt = 0;
  const parsed = parseServers(opts.url);
  const security = securityOptions(parsed, opts.security);
  const where = parsed.display;
  const reason = (cause: unknown): string =>
    scrubSecrets((cause as Error)?.message ?? String(cause), parsed, opts.security);
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...security,
      servers: parsed.servers,
      name: opts.name,
      maxReconnectAttempts: -1,
      timeout: opts.timeoutMs ?? 5_000,
      reconnectDelayHandler: () => {
        const base = Math.min(max, initial * 2 ** Math.min(attempt, 16));
        attempt++;
        return Math.round(base * (0.8 + Math.random() * 0.4));
      },
    });
  } catch (cause) {
    throw new BusConnectError(`NATS: cannot connect to ${where}: ${reason(cause)}`, { cause });
  }
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          logger.warn({ server: s.server }, 'nats disconnected');
          break;
        case 'reconnecting':
          logger.info({ attempt }, 'nats reconnecting');
          break;
        case 'reconnect':
          attempt = 0;
          logger.info({ server: s.server }, 'nats reconnected');
          break;
        case 'error':
          logger.error({ err: s.error }, 'nats error');
          break;
        case 'ldm':
          logger.warn({ server: s.server }, 'nats server entering lame duck mode');
          break;
        case 'slowConsumer':
          logger.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'nats slow consumer');
          break;
        case 'staleConnection':
          logger.warn('nats stale connection');
          break;
        case 'close':
          logger.debug('nats connection closed');
          break;
        default:
          break;
      }
    }
  })().catch((err: unknown) => logger.error({ err }, 'nats status monitor failed'));
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (cause) {
    await nc.close();
    throw new BusConnectError(`NATS: JetStream is not available at ${where}: ${reason(cause)}`, { cause });
  }
  const js = jetstream(nc);
  const kvm = new Kvm(js);
  logger.debug({ server: nc.info?.version, servers: where, tls: security.tls !== undefined, root }, 'nats connected');
  let closing: Promise<void> | undefined;
  return {
    nc,
    js,
    jsm,
    kvm,
    subjects: subj,
    root,
    logger,
    meter: opts.meter ?? metrics.getMeter('kec-bus'),
    close() {
      closing ??= (async () => {
        if (nc.isClosed()) return;
        try {
          await nc.drain();
        } catch (err) {
          // Draining a connection that is already draining/closing: close it plainly.
          logger.debug({ err }, 'nats drain failed; closing');
          if (!nc.isClosed()) await nc.close();
        }
      })();
      return closing;
    },
  };
}
