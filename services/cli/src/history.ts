// What the history commands share: their dependencies (output, terminal facts, clock, a stop signal), the common
// flags (--server, --cluster, -n/-A, -o, --since/--until) and the kubectl-style argument checks.
import { canonicalKind } from '@kec/model';
import { type Command, Option } from 'commander';
import { type ApiTarget, CliError, resolveTarget } from './api-client.ts';
import type { PrintOptions } from './printers.ts';

export interface HistoryDeps {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  /** Notes that are not data (e.g. "No events found."), on stderr. */
  note: (text: string) => void;
  /** stdout is a terminal (colour, width). */
  tty: boolean;
  /** Terminal columns when stdout is a terminal. */
  columns?: number | undefined;
  now?: () => number;
  /** Ends `-w`, `kec tail` (default: SIGINT/SIGTERM of this process). */
  stop?: AbortSignal;
}

export interface CommonOpts {
  server?: string;
  cluster?: string;
  namespace?: string;
  allNamespaces?: boolean;
  since?: string;
  until?: string;
  /** false with --no-headers (commander's negated flag). */
  headers?: boolean;
}

export function addCommonOptions(
  cmd: Command,
  o: { namespaced?: 'list' | 'single' | false; range?: boolean } = {},
): Command {
  cmd.option('--server <url>', 'kec API URL (default: $KEC_API_URL, server: in ~/.kec/config, http://127.0.0.1:8080)');
  cmd.option('--cluster <name>', 'only this cluster');
  if (o.namespaced === 'single') cmd.option('-n, --namespace <ns>', 'namespace of the object (default "default")');
  else if (o.namespaced !== false) {
    cmd.option('-n, --namespace <ns>', 'namespace');
    cmd.option('-A, --all-namespaces', 'every namespace');
  }
  if (o.range !== false) {
    cmd.option('--since <time>', 'from this long ago (30s, 15m, 2h, 7d, 1w) or an RFC 3339 time');
    cmd.option('--until <time>', 'up to this long ago or this RFC 3339 time (default: now)');
  }
  return cmd;
}

export const outputOption = (choices: string[]) =>
  new Option('-o, --output <format>', `output format: ${choices.join('|')}`).choices(choices);

export function printOptions(deps: HistoryDeps, opts: { noHeaders?: boolean } = {}): PrintOptions {
  const cols = Number(deps.env['COLUMNS']);
  const width = Number.isInteger(cols) && cols > 0 ? cols : deps.tty ? deps.columns : undefined;
  const color = deps.tty && !deps.env['NO_COLOR'] && deps.env['TERM'] !== 'dumb';
  return { now: deps.now?.() ?? Date.now(), width, color, noHeaders: opts.noHeaders ?? false };
}

export function target(deps: HistoryDeps, opts: CommonOpts): ApiTarget {
  return resolveTarget(opts.server, deps.env);
}

const TIME_BOUND = /^(\d+[smhdw])+$|^\d{4}-\d{2}-\d{2}T/;

/** Checks --since/--until locally (the API checks again) so a typo is a usage error, exit 2. */
export function checkRange(opts: CommonOpts): void {
  for (const k of ['since', 'until'] as const) {
    const v = opts[k];
    if (v !== undefined && !TIME_BOUND.test(v)) {
      throw new CliError(`--${k} must be a duration (30s, 15m, 2h, 7d, 1w, 1h30m) or an RFC 3339 time, got "${v}"`, 2);
    }
  }
}

/** -A: every namespace; -n NS; otherwise `dflt` (kubectl's `default` for event listings, all for cluster views). */
export function namespaceOf(opts: CommonOpts, dflt: string | undefined): string | undefined {
  if (opts.allNamespaces) return undefined;
  return opts.namespace ?? dflt;
}

/** `--for`/timeline argument: `KIND/NAME` (kubectl's error text when it is not). */
export function parseObjectRef(s: string, flag: string): { kind: string; name: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(s);
  if (!m) throw new CliError(`${flag} must be in resource/name form`, 2);
  return { kind: canonicalKind(m[1] as string), name: m[2] as string };
}

/** `--types`: Normal and/or Warning, case-insensitive (kubectl events' rule). */
export function parseTypes(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const out: string[] = [];
  for (const t of s.split(',').map((x) => x.trim())) {
    const v = t.toLowerCase() === 'normal' ? 'Normal' : t.toLowerCase() === 'warning' ? 'Warning' : undefined;
    if (!v) throw new CliError('valid --types are Normal or Warning', 2);
    if (!out.includes(v)) out.push(v);
  }
  return out.join(',');
}

/** An AbortSignal that fires on SIGINT/SIGTERM (Ctrl-C ends a watch with exit 0), unless the deps bring one. */
export function stopSignal(deps: HistoryDeps): { signal: AbortSignal; dispose: () => void } {
  if (deps.stop) return { signal: deps.stop, dispose: () => {} };
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}
