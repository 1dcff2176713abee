// The `kec` command line (commander). Commands print to stdout; errors are one `kec: ...` line on stderr.
import { CONFIG_ERROR_EXIT_CODE, ConfigError, type ConfigSpec, formatConfigError, sharedConfigSpec } from '@kec/config';
import { runServices } from '@kec/runtime';
import { Command, CommanderError, Option } from 'commander';
import { addAlertsCommands } from './alerts-command.ts';
import { addHistoryCommands } from './history-commands.ts';
import { addReclassifyCommand } from './reclassify-command.ts';
import { registry as defaultRegistry, type ServiceLoader } from './registry.ts';
import { addRulesCommand } from './rules-command.ts';
import { loadServices, selectServices, UsageError } from './services.ts';
import { renderJson, renderYaml, resolveSections } from './show-config.ts';
import { addSqlCommand } from './sql-command.ts';
import { kecVersion, versionLines } from './version.ts';

/** Exit status for a usage error (bad command, unknown service, bad config). */
export const EXIT_USAGE = 2;

export interface CliContext {
  env: Record<string, string | undefined>;
  registry?: Readonly<Record<string, ServiceLoader>>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Ends `kec get events -w` and `kec tail` (default: SIGINT/SIGTERM). */
  stop?: AbortSignal;
  /** For the history commands' printers (default: the process's clock). */
  now?: () => number;
}

class ExitError extends Error {
  override name = 'ExitError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export function buildProgram(ctx: CliContext): Command {
  const registry = ctx.registry ?? defaultRegistry;
  const out = ctx.stdout ?? ((t: string) => process.stdout.write(t));
  const configFile = (cmd: Command): string | undefined => {
    const opt = cmd.optsWithGlobals<{ config?: string }>().config;
    const fromEnv = ctx.env['KEC_CONFIG_FILE'];
    return opt ?? (fromEnv === '' ? undefined : fromEnv);
  };

  const program = new Command('kec')
    .description('kube-event-center: capture, enrich, correlate and store every Kubernetes Event')
    .version(kecVersion(), '-V, --version', 'print the kec version')
    .option('-c, --config <file>', 'YAML config file (default: $KEC_CONFIG_FILE); env vars win over it')
    .showHelpAfterError('(run "kec help" for the commands)')
    .exitOverride();

  program
    .command('version')
    .description('print the versions of kec, Node and the key dependencies')
    .action(() => {
      out(`${versionLines().join('\n')}\n`);
    });

  program
    .command('run')
    .description(
      `run services in this process: one or more of ${Object.keys(registry).join(', ') || '(none built yet)'}, or all`,
    )
    .argument('<service...>', 'service names, or "all"')
    .addHelpText(
      'after',
      '\nServes /metrics, /healthz and /readyz on KEC_METRICS_PORT; drains on SIGTERM within KEC_SHUTDOWN_GRACE_MS.\n' +
        'With no services built, "kec run all" serves only those endpoints.',
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      let selected: string[];
      try {
        selected = selectServices(names, registry);
      } catch (err) {
        if (err instanceof UsageError) throw new ExitError(EXIT_USAGE, `kec: ${err.message}`);
        throw err;
      }
      const defs = await loadServices(selected, registry);
      await runServices(defs, {
        env: ctx.env,
        configFile: configFile(cmd),
        ...(names.includes('all') ? { processName: 'kec' } : {}),
      });
    });

  program
    .command('migrate')
    .description('apply the ClickHouse schema and retention (KEC_CLICKHOUSE_URL, else the embedded store)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runMigrate } = await import('@kec/writer');
      try {
        await runMigrate({ env: ctx.env, configFile: configFile(cmd), out });
      } catch (err) {
        if (err instanceof ConfigError) throw new ExitError(CONFIG_ERROR_EXIT_CODE, formatConfigError(err));
        throw err;
      }
    });

  program
    .command('config')
    .description('print the resolved configuration (shared keys and each service section), secrets masked')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: { output: 'yaml' | 'json' }, cmd: Command) => {
      const file = configFile(cmd);
      const defs = await loadServices(Object.keys(registry), registry);
      const specs: ConfigSpec[] = [sharedConfigSpec, ...defs.flatMap((d) => (d.config ? [d.config] : []))];
      try {
        const sections = resolveSections(specs, ctx.env, file);
        out(opts.output === 'json' ? renderJson(sections) : renderYaml(sections, file));
      } catch (err) {
        if (err instanceof ConfigError) throw new ExitError(CONFIG_ERROR_EXIT_CODE, formatConfigError(err));
        throw err;
      }
    });

  addRulesCommand(program, out);
  addAlertsCommands(program, {
    env: ctx.env,
    configFile,
    out,
    fail: (code, message) => {
      throw new ExitError(code, message);
    },
  });
  addSqlCommand(program, {
    env: ctx.env,
    configFile,
    out,
    fail: (message, code = 1) => {
      throw new ExitError(code, message);
    },
  });

  addReclassifyCommand(program, {
    env: ctx.env,
    configFile,
    out,
    note: ctx.stderr ?? ((t: string) => process.stderr.write(t)),
    fail: (code, message) => {
      throw new ExitError(code, message);
    },
  });

  addHistoryCommands(
    program,
    {
      env: ctx.env,
      out,
      note: ctx.stderr ?? ((t: string) => process.stderr.write(t)),
      // a terminal only when writing to the real stdout (colour, width)
      tty: ctx.stdout === undefined && process.stdout.isTTY === true,
      columns: ctx.stdout === undefined ? process.stdout.columns : undefined,
      ...(ctx.now ? { now: ctx.now } : {}),
      ...(ctx.stop ? { stop: ctx.stop } : {}),
    },
    (code, message) => {
      throw new ExitError(code, message);
    },
  );

  return program;
}

/** Parses argv (as in process.argv) and runs the command; resolves with the exit code for commands that end. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const err = ctx.stderr ?? ((t: string) => process.stderr.write(t));
  const program = buildProgram(ctx);
  if (argv.length <= 2) {
    (ctx.stdout ?? ((t: string) => process.stdout.write(t)))(program.helpInformation());
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof ExitError) {
      err(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      // commander already printed its message; help and --version are successes
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    throw e;
  }
}
