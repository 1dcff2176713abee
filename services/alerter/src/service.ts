// Wiring of the alerter: config -> rules -> NATS (streams, consumers, KV) -> engine -> consumers and ticker.
import {
  type BusMessage,
  type ConsumerHandle,
  connectBus,
  consume,
  consumerSpec,
  consumerWindow,
  ensureConsumer,
  ensureStream,
  formatConsumerWindow,
  natsSecurity,
  openKv,
  PoisonMessageError,
  Publisher,
  parseBatch,
  type StreamSpec,
  type StreamSpecOptions,
  streamSpec,
  sumWindows,
} from '@kec/bus';
import { loadConfig } from '@kec/config';
import {
  NOTIFICATIONS_STREAM,
  type NotificationSender,
  notificationsStreamSpec,
  startNotificationSender,
} from '@kec/notify';
import type { RunningService, ServiceContext, ServiceDefinition } from '@kec/runtime';
import { nanos } from '@nats-io/transport-node';
import type { Validator } from 'typebox/compile';
import { type AlerterConfig, alerterConfig } from './config.ts';
import { AlertEngine } from './engine.ts';
import { silenceState } from './groups.ts';
import { EventInValidator, IncidentInValidator, PatternInValidator } from './inputs.ts';
import { type AlertsConfig, loadAlertsConfig } from './load.ts';
import { alerterMetrics } from './metrics.ts';
import { AlertStore } from './store.ts';

const GiB = 1024 * 1024 * 1024;

/**
 * KEC_ALERTS (`<root>.alerts.>`, public kec.alert/v1, 7 d, duplicate window 10 min) and the outbox KEC_NOTIFICATIONS
 * (`@kec/notify`'s spec: 7 d, duplicate window 1 h, longer than any republish of a pending notification and shorter
 * than a group's idle life).
 */
export function alerterStreamSpecs(root: string, prefix: string, opts: StreamSpecOptions = {}): StreamSpec[] {
  const base = streamSpec('KEC_INCIDENTS', root, prefix, opts);
  const alerts: StreamSpec = {
    ...base,
    name: `${prefix}KEC_ALERTS`,
    subjects: [`${root}.alerts.>`],
    description: 'alert transitions (firing, resolved), public kec.alert/v1',
    max_bytes: GiB,
    duplicate_window: nanos(10 * 60_000),
    ...opts.overrides?.['KEC_ALERTS'],
  };
  return [
    alerts,
    notificationsStreamSpec(root, prefix, {
      num_replicas: opts.replicas ?? 1,
      ...opts.overrides?.['KEC_NOTIFICATIONS'],
    }),
  ];
}

function parser<T>(v: Validator, what: string): (data: Uint8Array) => T {
  const dec = new TextDecoder();
  return (data) => {
    let value: unknown;
    try {
      value = JSON.parse(dec.decode(data));
    } catch (cause) {
      throw new PoisonMessageError(`not JSON: ${(cause as Error).message}`, { cause });
    }
    if (v.Check(value)) return value as T;
    const first = v.Errors(value)[0] as { instancePath?: string; message?: string } | undefined;
    throw new PoisonMessageError(`not ${what}: ${first?.instancePath ?? ''} ${first?.message ?? ''}`.trim());
  };
}

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function alertsConfigFrom(cfg: AlerterConfig): AlertsConfig {
  return loadAlertsConfig(csv(cfg.configFiles), { defaults: cfg.defaultRules });
}

export const alerterService: ServiceDefinition = {
  name: 'alerter',
  description:
    'Alerts on incidents, event thresholds and patterns, with state, routing, grouping, silences and inhibition: KEC_INCIDENTS, KEC_EVENTS, KEC_PATTERNS -> KEC_ALERTS, KEC_NOTIFICATIONS.',
  config: alerterConfig,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const cfg = loadConfig(alerterConfig, { env: ctx.env, file: ctx.configFile });
    const log = ctx.logger;
    const rules = alertsConfigFrom(cfg); // a bad file fails the start with file:line errors
    const bus = await connectBus({
      url: ctx.shared.natsUrl,
      security: natsSecurity(ctx.shared),
      name: 'kec-alerter',
      logger: log,
      root: cfg.subjectRoot,
      meter: ctx.meter,
    });
    const metrics = alerterMetrics(ctx.meter);
    const handles: ConsumerHandle[] = [];
    let store: AlertStore | undefined;
    let sender: NotificationSender | undefined;
    let timer: NodeJS.Timeout | undefined;
    let ticking: Promise<void> = Promise.resolve();
    const publisher = new Publisher(bus, { window: 256 });
    const inputs = [
      { stream: 'KEC_INCIDENTS', kind: 'incidents', source: 'incidents' },
      { stream: 'KEC_EVENTS', kind: 'events', source: 'events' },
      { stream: 'KEC_PATTERNS', kind: 'patterns', source: 'patterns' },
    ] as const;
    let engine: AlertEngine;
    try {
      const overrides = cfg.streamMaxBytes
        ? Object.fromEntries(
            ['KEC_INCIDENTS', 'KEC_EVENTS', 'KEC_PATTERNS', 'KEC_DLQ', 'KEC_ALERTS', 'KEC_NOTIFICATIONS'].map((n) => [
              n,
              { max_bytes: cfg.streamMaxBytes },
            ]),
          )
        : undefined;
      // KEC_STREAM_REPLICAS: the replicas of every stream and bucket this stage creates (as the other stages).
      const replicas = ctx.shared.streamReplicas;
      const opts: StreamSpecOptions = overrides ? { overrides, replicas } : { replicas };
      // Input streams belong to the correlator (KEC_DLQ to every stage): created here only when missing, never
      // updated, so the alerter's defaults cannot raise limits another stage set (e.g. a demo's small streams).
      for (const s of ['KEC_INCIDENTS', 'KEC_EVENTS', 'KEC_PATTERNS', 'KEC_DLQ']) {
        const spec = streamSpec(s, cfg.subjectRoot, cfg.streamPrefix, opts);
        const exists = await bus.jsm.streams.info(spec.name).then(
          () => true,
          () => false,
        );
        if (!exists) await ensureStream(bus.jsm, spec);
      }
      for (const s of alerterStreamSpecs(cfg.subjectRoot, cfg.streamPrefix, opts)) await ensureStream(bus.jsm, s);
      store = await AlertStore.open(bus, { bucket: cfg.bucket, replicas, logger: log });
      engine = new AlertEngine({
        bus,
        publisher,
        store,
        config: rules,
        ctx: { externalURL: cfg.externalUrl },
        maxAlerts: cfg.maxAlerts,
        groupIdleMs: cfg.groupIdleMs,
        logger: log,
        metrics,
      });
      for (const input of inputs) {
        if (engine.rulesOf(input.source).length === 0) continue; // no rule reads it: do not consume it
        const stream = cfg.streamPrefix + input.stream;
        await ensureConsumer(
          bus.jsm,
          stream,
          consumerSpec(cfg.durable, {
            filterSubject: bus.subjects.all(input.kind),
            ackWaitMs: 30_000,
            maxDeliver: -1,
            maxAckPending: cfg.maxAckPending,
          }),
        );
        const validator =
          input.source === 'incidents'
            ? IncidentInValidator
            : input.source === 'events'
              ? EventInValidator
              : PatternInValidator;
        const parse = parser<never>(validator, `a ${input.kind} payload`);
        const handle = await consume({
          bus,
          stream,
          durable: cfg.durable,
          dlq: { stage: 'alerter' },
          maxDeliver: Number.MAX_SAFE_INTEGER,
          concurrency: 1,
          batch: { maxMessages: cfg.batchSize, maxWaitMs: cfg.batchWaitMs },
          pullAhead: Math.max(64, cfg.batchSize * 2),
          handler: async (msgs: BusMessage[]) => {
            // Events no rule can match (by their subject) are acked unread.
            const read = input.source === 'events' ? msgs.filter((m) => engine.eventSubjectWanted(m.subject)) : msgs;
            const { items, deadLetter } = parseBatch(read, parse);
            if (input.source === 'incidents') await engine.handleIncidents(items);
            else if (input.source === 'events') await engine.handleEvents(items);
            else await engine.handlePatterns(items);
            metrics.inputs.add(msgs.length, { stream: input.stream });
            return deadLetter.length ? { deadLetter } : undefined;
          },
        });
        handles.push(handle);
      }
      if (cfg.sender && rules.receivers.size > 0) {
        sender = await startNotificationSender({
          bus,
          receivers: [...rules.receivers.values()],
          stream: `${cfg.streamPrefix}${NOTIFICATIONS_STREAM}`,
          logger: log,
          meter: ctx.meter,
          deliveredKv: await openKv(bus, cfg.deliveredBucket, { ttlMs: 7 * 86_400_000, replicas }),
        });
      }
    } catch (err) {
      await sender?.stop();
      for (const h of handles) await h.stop();
      await store?.close();
      await bus.close();
      throw err;
    }
    const st = store;
    metrics.alerts.addCallback((r) => {
      const counts = new Map<string, number>();
      const now = Date.now();
      const alerts = st.values('a');
      const muted = engine.muted(alerts, now);
      for (const a of alerts) {
        const k = `${a.status}|${muted.has(a.id)}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const [k, n] of counts) {
        const [state, m] = k.split('|');
        r.observe(n, { state: state ?? '', muted: m ?? '' });
      }
    });
    metrics.silences.addCallback((r) => {
      const now = Date.now();
      const counts: Record<string, number> = { active: 0, pending: 0, expired: 0 };
      for (const s of st.values('s')) counts[silenceState(s, now)] = (counts[silenceState(s, now)] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) r.observe(n, { state });
    });
    metrics.conflicts.addCallback((r) => r.observe(st.conflicts));
    let tickError: string | undefined;
    timer = setInterval(() => {
      ticking = ticking
        .then(() => engine.tick())
        .then(() => {
          tickError = undefined;
        })
        .catch((err: unknown) => {
          tickError = (err as Error).message;
          log.warn({ err }, 'alerter tick failed; retried on the next tick');
        });
    }, cfg.tickMs);
    ctx.registerHealthCheck('alerter-tick', () => {
      // A tick loop that stopped advancing (stuck on I/O) is unhealthy.
      const last = engine.lastTickAt;
      if (last > 0 && Date.now() - last > Math.max(60_000, cfg.tickMs * 30))
        return `no tick for ${Date.now() - last} ms`;
      return undefined;
    });
    log.info(
      {
        rules: rules.rules.length,
        receivers: [...rules.receivers.keys()],
        route: Boolean(rules.route),
        sender: Boolean(sender),
        inhibitRules: rules.inhibit.length,
        files: rules.files,
      },
      'alerter started',
    );
    const windows = handles.map((h) => consumerWindow(h));
    return {
      async summary() {
        const w = sumWindows(await Promise.all(windows.map((next) => next())));
        const firing = st.values('a').filter((a) => a.status === 'firing').length;
        return {
          msg: `${formatConsumerWindow(w)}; ${firing.toLocaleString('en-US')} alerts firing`,
          in: w.processed,
          firing,
          failed: w.failed,
          deadLettered: w.deadLettered,
          pending: w.pending,
        };
      },
      readiness() {
        if (bus.nc.isClosed()) return 'NATS connection closed';
        if (!st.isSynced) return 'alert state not loaded yet';
        if (tickError) return `tick failing: ${tickError}`;
        return undefined;
      },
      async stop() {
        if (timer) clearInterval(timer);
        await ticking;
        for (const h of handles) await h.stop();
        await publisher.flush();
        await sender?.stop();
        await st.close();
        await bus.close();
      },
    };
  },
};
