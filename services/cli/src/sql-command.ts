// `kec sql "SELECT ..."`: one read-only statement through the API's POST /api/v1/sql (scope sql). With the
// embedded store the API runs in the process holding it (`kec run all`), so this is how to query it.
import type { SqlResponse, Status } from '@kec/api';
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolveTarget } from './api-client.ts';

export interface SqlCommandDeps {
  env: Record<string, string | undefined>;
  configFile: (cmd: Command) => string | undefined;
  out: (text: string) => void;
  fail: (message: string, code?: number) => never;
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
    .description('run one read-only SQL statement through the kec API (POST /api/v1/sql; token scope sql)')
    .argument(
      '<statement>',
      'SELECT / WITH / SHOW / DESCRIBE / EXPLAIN statement; tables are kec.events, kec.occurrences, ...',
    )
    .option(
      '--server <url>',
      'kec API (default: $KEC_API_URL, server: in ~/.kec/config, http://127.0.0.1:$KEC_API_PORT or :8080)',
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (statement: string, opts: { server?: string; output: 'table' | 'json' }) => {
      const port = deps.env['KEC_API_PORT'];
      const fallback = !deps.env['KEC_API_URL'] && port && port !== '0' ? `http://127.0.0.1:${port}` : undefined;
      let target: ReturnType<typeof resolveTarget>;
      try {
        target = resolveTarget(opts.server ?? fallback, deps.env);
      } catch (err) {
        deps.fail(`kec: ${(err as Error).message}`, 2);
      }
      const url = `${target.server}/api/v1/sql`;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          body: JSON.stringify({ query: statement }),
          headers: {
            'content-type': 'application/json',
            ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
          },
        });
      } catch (err) {
        const cause = (err as Error).cause as { code?: string } | undefined;
        deps.fail(
          `kec: cannot reach the kec API at ${target.server} (${cause?.code ?? (err as Error).message}); set --server or KEC_API_URL`,
        );
      }
      const body = (await res.json().catch(() => ({}))) as Partial<SqlResponse> & Partial<Status>;
      if (!res.ok || !body.rows) deps.fail(`kec: ${body.message ?? `HTTP ${res.status}`} (HTTP ${res.status})`);
      if (opts.output === 'json') deps.out(`${JSON.stringify(body.rows)}\n`);
      else deps.out(renderRows(body.rows) + (body.truncated ? '(truncated: add a LIMIT)\n' : ''));
    });
}
