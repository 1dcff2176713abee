// `kec sql "SELECT ..."`: runs one read-only statement through the sql service of a running kec process
// (`kec run all` serves it on KEC_SQL_PORT), because the embedded store can be opened by one process only.
import { loadConfig } from '@kec/config';
import { type Command, Option } from 'commander';
import { sqlConfig } from './sql-service.ts';

export interface SqlCommandDeps {
  env: Record<string, string | undefined>;
  configFile: (cmd: Command) => string | undefined;
  out: (text: string) => void;
  fail: (message: string) => never;
}

/** Rows as an aligned text table (columns in the order of the first row). */
export function renderRows(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(0 rows)\n';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.min(80, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(cols), ...cells.map(line)].join('\n')}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

export function addSqlCommand(program: Command, deps: SqlCommandDeps): void {
  program
    .command('sql')
    .description('run one read-only SQL statement against the store of a running `kec run all` (its sql service)')
    .argument(
      '<statement>',
      'SELECT / WITH / SHOW / DESCRIBE / EXPLAIN statement; tables are kec.events, kec.occurrences, ...',
    )
    .option('--url <url>', 'sql endpoint (default: http://127.0.0.1:$KEC_SQL_PORT/sql)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (statement: string, opts: { url?: string; output: 'table' | 'json' }, cmd: Command) => {
      let url = opts.url;
      if (!url) {
        const cfg = loadConfig(sqlConfig, { env: deps.env, file: deps.configFile(cmd) });
        const host = cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host;
        url = `http://${host}:${cfg.port}/sql`;
      }
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', body: statement, headers: { 'content-type': 'text/plain' } });
      } catch (err) {
        deps.fail(
          `kec: cannot reach ${url} (is \`kec run all\` running?): ${(err as Error).cause ?? (err as Error).message}`,
        );
      }
      const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as {
        rows?: Record<string, unknown>[];
        truncated?: boolean;
        error?: string;
      };
      if (!res.ok || !body.rows) deps.fail(`kec: ${body.error ?? `HTTP ${res.status}`}`);
      if (opts.output === 'json') deps.out(`${JSON.stringify(body.rows)}\n`);
      else deps.out(renderRows(body.rows) + (body.truncated ? '(truncated: add a LIMIT)\n' : ''));
    });
}
