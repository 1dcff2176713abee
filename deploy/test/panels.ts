// The ClickHouse queries of the dashboards (panels, variables, annotations) as the SQL test and `./dev bench grafana`
// run them: each with what its panel format needs and the variable context Grafana would expand it in.
import type { Dashboard, VariableModel } from '@grafana/schema';
import {
  CHECKS,
  CLICKHOUSE,
  type ClickHouseTarget,
  DASHBOARDS,
  FORMAT,
  type Format,
} from '../grafana/src/dashboards.ts';
import { expand, intervalFor, type VariableValue } from './macros.ts';

export interface DashboardQuery {
  dashboard: string;
  /** Panel title, `var <name>` or `annotation <name>`. */
  title: string;
  kind: 'panel' | 'variable' | 'annotation';
  /** Panel type (timeseries, table, logs, ...), or the kind for variables and annotations. */
  type: string;
  format: Format;
  rawSql: string;
  /** The scenario must give rows (panels: CHECKS; variables and annotations: true). */
  rows: boolean;
}

/** Columns each format needs (the plugin's data frame conversion); annotations need time and text. */
export function requiredColumns(q: DashboardQuery): string[] {
  if (q.kind === 'annotation') return ['time', 'text'];
  if (q.format === FORMAT.timeseries) return ['time'];
  if (q.format === FORMAT.logs) return ['timestamp', 'body', 'level'];
  return [];
}

type AnyPanel = { type: string; title: string; targets?: unknown[]; panels?: AnyPanel[] };

export function dashboardQueries(uid: string, d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const panels = (d.panels as AnyPanel[]).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
  for (const p of panels) {
    for (const t of (p.targets ?? []) as ClickHouseTarget[]) {
      if (t.datasource?.uid !== CLICKHOUSE.uid) continue;
      const check = CHECKS.get(`${uid}/${p.title}`);
      if (!check) throw new Error(`${uid}/${p.title}: no CHECKS entry`);
      out.push({
        dashboard: uid,
        title: p.title,
        kind: 'panel',
        type: p.type,
        format: t.format,
        rawSql: t.rawSql,
        rows: check.rows,
      });
    }
  }
  for (const v of (d.templating?.list ?? []) as VariableModel[]) {
    const q = v.query as { rawSql?: string } | undefined;
    if (v.datasource?.uid !== CLICKHOUSE.uid || !q?.rawSql) continue;
    out.push({
      dashboard: uid,
      title: `var ${v.name}`,
      kind: 'variable',
      type: 'variable',
      format: FORMAT.table,
      rawSql: q.rawSql,
      rows: true,
    });
  }
  for (const a of d.annotations?.list ?? []) {
    const t = a.target as { rawSql?: string } | undefined;
    if (a.datasource?.uid !== CLICKHOUSE.uid || !t?.rawSql) continue;
    out.push({
      dashboard: uid,
      title: `annotation ${a.name}`,
      kind: 'annotation',
      type: 'annotation',
      format: FORMAT.table,
      rawSql: t.rawSql,
      rows: true,
    });
  }
  return out;
}

/** Every dashboard with ClickHouse queries: uid -> its dashboard and queries. */
export function allQueries(): [string, Dashboard, DashboardQuery[]][] {
  return Object.values(DASHBOARDS)
    .map((d): [string, Dashboard, DashboardQuery[]] => [d.uid as string, d, dashboardQueries(d.uid as string, d)])
    .filter(([, , qs]) => qs.length > 0);
}

export function variableNames(d: Dashboard): VariableModel[] {
  return (d.templating?.list ?? []) as VariableModel[];
}

/** Expands a query for a time range and variable values, and refuses leftovers (an unknown macro or variable). */
export function expandQuery(
  q: DashboardQuery,
  fromMs: number,
  toMs: number,
  variables: Record<string, VariableValue>,
): string {
  const sql = expand(q.rawSql, { fromMs, toMs, intervalMs: intervalFor(fromMs, toMs), variables });
  const left = /\$__\w+|\$\{\w+\}|\$[a-z]\w*|\[\[\w+\]\]/.exec(sql);
  if (left) throw new Error(`${q.dashboard}/${q.title}: ${left[0]} left after expansion:\n${sql}`);
  return sql;
}
