// `kec alerts check FILE...` and `kec silence add|ls|expire`. @kec/alerter is imported lazily.
import { loadConfig, sharedConfigSpec } from '@kec/config';
import type { Command } from 'commander';

export interface AlertsCommandDeps {
  env: Record<string, string | undefined>;
  configFile: (cmd: Command) => string | undefined;
  out: (text: string) => void;
  /** Throws: exit with this code and message. */
  fail: (code: number, message: string) => never;
}

const DURATION = /^(\d+)(m|h|d)$/;

function until(text: string, now: Date): Date {
  const m = DURATION.exec(text);
  if (m)
    return new Date(now.getTime() + Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--duration/--until: not a duration (30m, 2h, 1d) or an RFC 3339 time: ${text}`);
  return new Date(t);
}

export function addAlertsCommands(program: Command, d: AlertsCommandDeps): void {
  const alerts = program.command('alerts').description('alert rules, routes and receivers (kec.alerts/v1)');
  alerts
    .command('check')
    .description(
      'validate alerts files with the shipped defaults; prints file:line, rule and key of every problem (exit 2 when invalid)',
    )
    .argument('<file...>', 'kec.alerts/v1 YAML files')
    .action(async (files: string[]) => {
      const { checkAlertsFiles } = await import('@kec/alerter');
      const r = checkAlertsFiles(files);
      if (!r.ok) d.fail(2, r.lines.join('\n'));
      d.out(`${r.lines.join('\n')}\n`);
    });

  const connect = async (cmd: Command) => {
    const { connectBus, natsSecurity } = await import('@kec/bus');
    const { alerterConfig } = await import('@kec/alerter');
    const file = d.configFile(cmd);
    const shared = loadConfig(sharedConfigSpec, { env: d.env, file });
    const cfg = loadConfig(alerterConfig, { env: d.env, file });
    const { pino } = await import('pino');
    const bus = await connectBus({
      url: shared.natsUrl,
      security: natsSecurity(shared),
      name: 'kec-cli',
      root: cfg.subjectRoot,
      logger: pino({ level: 'warn' }, process.stderr),
    });
    return { bus, bucket: { name: cfg.bucket, replicas: shared.streamReplicas } };
  };

  const silence = program
    .command('silence')
    .description('silences of the alerter (shared by every replica, in NATS KV)');
  silence
    .command('add')
    .description(
      'silence the alerts that match every matcher, e.g. kec silence add \'namespace="shop"\' -d 2h -m "deploy"',
    )
    .argument('<matcher...>', 'Alertmanager matchers: name="v", name!="v", name=~"re", name!~"re"')
    .option('-d, --duration <d>', 'how long (30m, 2h, 1d)', '1h')
    .option('--until <time>', 'end time (RFC 3339); wins over --duration')
    .option('-a, --author <name>', 'who silences', process.env['USER'] ?? 'kec')
    .requiredOption('-m, --comment <text>', 'why')
    .action(
      async (
        matchers: string[],
        o: { duration: string; until?: string; author: string; comment: string },
        cmd: Command,
      ) => {
        const { addSilence, formatSilenceMatchers } = await import('@kec/alerter');
        const now = new Date();
        let endsAt: Date;
        try {
          endsAt = until(o.until ?? o.duration, now);
        } catch (err) {
          return d.fail(2, `kec: ${(err as Error).message}`);
        }
        const { bus, bucket } = await connect(cmd);
        try {
          const s = await addSilence(bus, bucket, { matchers, endsAt, createdBy: o.author, comment: o.comment }, now);
          d.out(`${s.id}  ${formatSilenceMatchers(s)}  until ${s.endsAt}\n`);
        } catch (err) {
          const e = err as Error & { retryable?: boolean };
          return d.fail(e.name === 'MatcherError' || e.retryable === false ? 2 : 1, `kec: ${e.message}`);
        } finally {
          await bus.close();
        }
      },
    );
  silence
    .command('ls')
    .description('list silences (active and pending; --all adds expired ones)')
    .option('--all', 'include expired silences')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o: { all?: boolean; output: string }, cmd: Command) => {
      const { listSilences, silenceState, formatSilenceMatchers } = await import('@kec/alerter');
      const { bus, bucket } = await connect(cmd);
      try {
        const now = Date.now();
        const list = (await listSilences(bus, bucket)).filter((s) => o.all || silenceState(s, now) !== 'expired');
        if (o.output === 'json') {
          d.out(
            `${JSON.stringify(
              list.map((s) => ({ ...s, state: silenceState(s, now) })),
              null,
              2,
            )}\n`,
          );
          return;
        }
        const rows = [
          ['ID', 'STATE', 'MATCHERS', 'ENDS', 'CREATED BY', 'COMMENT'],
          ...list.map((s) => [s.id, silenceState(s, now), formatSilenceMatchers(s), s.endsAt, s.createdBy, s.comment]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
        d.out(
          `${rows
            .map((r) =>
              r
                .map((c, i) => c.padEnd(widths[i] ?? 0))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        );
      } finally {
        await bus.close();
      }
    });
  silence
    .command('expire')
    .description('end silences now')
    .argument('<id...>', 'silence ids (from kec silence ls)')
    .action(async (ids: string[], _o: unknown, cmd: Command) => {
      const { expireSilence } = await import('@kec/alerter');
      const { bus, bucket } = await connect(cmd);
      try {
        for (const id of ids) {
          const s = await expireSilence(bus, bucket, id);
          d.out(`${s.id}  expired at ${s.endsAt}\n`);
        }
      } catch (err) {
        return d.fail(1, `kec: ${(err as Error).message}`);
      } finally {
        await bus.close();
      }
    });
}
