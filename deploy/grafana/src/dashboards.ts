// The kec Grafana dashboards, written as TypeScript objects checked against Grafana's published schema types
// (@grafana/schema: the dashboard model and each panel plugin's options) by `tsc`, then written as JSON by
// generate.ts into ../dashboards. deploy/test/grafana.test.ts checks that the JSON files are the generated ones
// and runs every panel's SQL against a store filled by the real pipeline.
//
// Tables read (libs/store): kec.events_per_minute (the per-minute rollup view: one row per minute and Event object,
// its new occurrences), kec.occurrences (every stored observation), kec.events (latest state per Event object, a
// ReplacingMergeTree: latest version picked with LIMIT 1 BY uid or argMax, no FINAL), kec.incidents (latest
// version per id by argMax), kec.gaps. The pipeline health dashboard reads Prometheus.
import {
  type AnnotationQuery,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  LegendDisplayMode,
  LogsDedupStrategy,
  LogsSortOrder,
  type Panel,
  type RowPanel,
  type VariableModel,
} from '@grafana/schema';
import type { Options as BarChartOptions } from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type { Options as LogsOptions } from '@grafana/schema/dist/esm/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen';
import type { Options as PieChartOptions } from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export const CLICKHOUSE: DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: 'kec-clickhouse' };
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'kec-prometheus' };

/** The plugin's query formats (src/data/utils.ts): 0 time series, 1 table, 2 logs. */
export const FORMAT = { timeseries: 0, table: 1, logs: 2 } as const;
export type Format = (typeof FORMAT)[keyof typeof FORMAT];

/** A SQL target of the grafana-clickhouse-datasource plugin (its CHSqlQuery). */
export type ClickHouseTarget = {
  refId: string;
  datasource: DataSourceRef;
  editorType: 'sql';
  format: Format;
  rawSql: string;
  pluginVersion?: string;
};
/** An annotation query of the plugin: columns time, timeEnd (optional), text, tags. */
export type ClickHouseAnnotationTarget = DataQuery & Omit<ClickHouseTarget, 'datasource'>;
export type PrometheusTarget = {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
};

/** What the SQL test needs to know about a panel beyond its JSON: must the scenario's data give it rows? */
export interface PanelCheck {
  /** The scenario run must give this panel at least one row (false: may be empty, e.g. open incidents). */
  rows: boolean;
}

type PanelOptions = {
  timeseries: Partial<TimeSeriesOptions>;
  table: Partial<TableOptions>;
  stat: Partial<StatOptions>;
  logs: Partial<LogsOptions>;
  piechart: Partial<PieChartOptions>;
  barchart: Partial<BarChartOptions>;
};

export interface KecPanel extends Panel {
  targets: (ClickHouseTarget | PrometheusTarget)[];
}

let nextId = 1;
interface PanelSpec<T extends keyof PanelOptions> {
  type: T;
  title: string;
  description: string;
  gridPos: { x: number; y: number; w: number; h: number };
  options?: PanelOptions[T];
  unit?: string;
}

function panel<T extends keyof PanelOptions>(
  spec: PanelSpec<T>,
  datasource: DataSourceRef,
  targets: KecPanel['targets'],
): KecPanel {
  return {
    id: nextId++,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    gridPos: spec.gridPos,
    datasource,
    fieldConfig: { defaults: spec.unit ? { unit: spec.unit } : {}, overrides: [] },
    options: spec.options ?? {},
    targets,
  };
}

/** The SQL of every ClickHouse panel, with what the test expects of it, keyed by `<dashboard uid>/<panel title>`. */
export const CHECKS = new Map<string, PanelCheck>();

function sqlPanel<T extends keyof PanelOptions>(
  dashboard: string,
  spec: PanelSpec<T>,
  format: Format,
  rawSql: string,
  check: PanelCheck = { rows: true },
): KecPanel {
  CHECKS.set(`${dashboard}/${spec.title}`, check);
  return panel(spec, CLICKHOUSE, [{ refId: 'A', datasource: CLICKHOUSE, editorType: 'sql', format, rawSql }]);
}

function promPanel<T extends keyof PanelOptions>(
  spec: PanelSpec<T>,
  queries: [expr: string, legend: string][],
): KecPanel {
  return panel(
    spec,
    PROMETHEUS,
    queries.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: PROMETHEUS,
      expr,
      legendFormat,
      range: true,
    })),
  );
}

function row(title: string, y: number): RowPanel {
  return { id: nextId++, type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] };
}

/** A multi-value query variable with All, read through $__conditionalAll. */
function sqlVariable(name: string, label: string, rawSql: string): VariableModel {
  return {
    type: 'query',
    name,
    label,
    datasource: CLICKHOUSE,
    query: { editorType: 'sql', rawSql },
    refresh: 2,
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
  };
}

/** A single-value query variable (no All). */
function sqlSingle(name: string, label: string, rawSql: string): VariableModel {
  const { current: _all, ...v } = sqlVariable(name, label, rawSql);
  return { ...v, multi: false, includeAll: false };
}

// Filters shared by the per-minute panels; each is 1=1 when its variable is All.
const ALL = (col: string, v: string) => `$__conditionalAll(${col} IN (\${${v}}), $${v})`;
const ROLLUP_FILTER = [`$__timeFilter(minute)`, ALL('cluster', 'cluster'), ALL('namespace', 'namespace')].join(
  '\n  AND ',
);
const CLUSTER_VAR = sqlVariable(
  'cluster',
  'Cluster',
  'SELECT DISTINCT cluster FROM kec.events_per_minute_state WHERE $__timeFilter(minute) ORDER BY cluster',
);
const NAMESPACE_VAR = sqlVariable(
  'namespace',
  'Namespace',
  `SELECT DISTINCT namespace FROM kec.events_per_minute_state WHERE $__timeFilter(minute) AND ${ALL('cluster', 'cluster')} ORDER BY namespace`,
);

/**
 * Latest state of each incident (argMax over versions, no FINAL). `clusterFilter` is a condition on `i.cluster`
 * (the multi-value variable by default); the table is aliased `i` so filters read its columns, not the aliases.
 * `activeInRange`: only incidents whose last event is in or after the range (`last_seen >= $__fromTime`), filtered
 * before the aggregation. Exact, because the correlator only ever raises `last_seen`: the latest version has the
 * highest, so an incident either keeps its latest version under the filter or has no version left. On a month of
 * incidents this aggregates the few active in the range instead of all of them (./dev bench grafana).
 */
const latestIncidents = (clusterFilter = ALL('i.cluster', 'cluster'), activeInRange = false) => `SELECT
    cluster, id,
    argMax(namespace, version) AS namespace,
    argMax(title, version) AS title,
    argMax(severity, version) AS severity,
    argMax(category, version) AS category,
    argMax(root_cause_reason, version) AS root_cause_reason,
    argMax(root_cause_object, version) AS root_cause_object,
    argMax(root_cause_why, version) AS root_cause_why,
    argMax(first_seen, version) AS first_seen,
    argMax(last_seen, version) AS last_seen,
    argMax(event_count, version) AS event_count,
    argMax(occurrence_count, version) AS occurrence_count,
    argMax(state, version) AS state
  FROM kec.incidents AS i
  WHERE i.first_seen <= $__toTime${activeInRange ? ' AND i.last_seen >= $__fromTime' : ''} AND ${clusterFilter}
  GROUP BY cluster, id`;
const LATEST_INCIDENTS = latestIncidents();
/** Latest state of the incidents active in the range: for panels that keep only `last_seen >= $__fromTime`. */
const ACTIVE_INCIDENTS = latestIncidents(ALL('i.cluster', 'cluster'), true);

function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: (KecPanel | RowPanel)[],
  variables: VariableModel[],
  annotations: AnnotationQuery[] = [],
  time = { from: 'now-6h', to: 'now' },
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['kec', 'kubernetes', 'events'],
    timezone: 'browser',
    editable: false,
    graphTooltip: 1,
    refresh: '1m',
    schemaVersion: 41,
    version: 1,
    time,
    timepicker: {},
    templating: { list: variables },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...annotations,
      ],
    },
    links: [
      {
        title: 'kec',
        type: 'dashboards',
        tags: ['kec'],
        asDropdown: true,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    panels,
  };
}

// --- 1. Overview --------------------------------------------------------------------------------------------------
const O = 'kec-overview';
/** An overview time series over the per-minute rollup: one series per value of `by`. */
function rollupSeries(
  title: string,
  description: string,
  [x, y]: [number, number],
  by: string,
  value: string,
  where = '',
  unit?: string,
): KecPanel {
  return sqlPanel(
    O,
    {
      type: 'timeseries',
      title,
      description,
      gridPos: { x, y, w: 12, h: 8 },
      ...(unit ? { unit } : {}),
      options: { legend: { displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] } },
    },
    FORMAT.timeseries,
    `SELECT $__timeInterval(minute) AS time, ${by}, ${value}\nFROM kec.events_per_minute\nWHERE ${ROLLUP_FILTER}${where}\nGROUP BY time, ${by}\nORDER BY time`,
  );
}

export const overview = dashboard(
  O,
  'kec / Overview',
  'Events and occurrences over time by type and severity, warning rate by namespace, top reasons and workloads, open incidents, gaps and dead letters.',
  [
    sqlPanel(
      O,
      {
        type: 'stat',
        title: 'Occurrences',
        description: 'Event occurrences in the range (count increments, from the per-minute rollup).',
        gridPos: { x: 0, y: 0, w: 4, h: 4 },
      },
      FORMAT.table,
      `SELECT sum(occurrences) AS occurrences\nFROM kec.events_per_minute\nWHERE ${ROLLUP_FILTER}`,
    ),
    sqlPanel(
      O,
      {
        type: 'stat',
        title: 'Warning occurrences',
        description: 'Occurrences of type Warning in the range.',
        gridPos: { x: 4, y: 0, w: 4, h: 4 },
      },
      FORMAT.table,
      `SELECT sum(occurrences) AS warnings\nFROM kec.events_per_minute\nWHERE ${ROLLUP_FILTER}\n  AND type = 'Warning'`,
    ),
    sqlPanel(
      O,
      {
        type: 'stat',
        title: 'Open incidents',
        description: 'Incidents whose latest state is open.',
        gridPos: { x: 8, y: 0, w: 4, h: 4 },
      },
      FORMAT.table,
      `SELECT countIf(state = 'open') AS open\nFROM (\n  ${LATEST_INCIDENTS}\n)\nWHERE ${ALL('namespace', 'namespace')}`,
    ),
    sqlPanel(
      O,
      {
        type: 'stat',
        title: 'Incidents in range',
        description: 'Incidents active in the range (open or resolved).',
        gridPos: { x: 12, y: 0, w: 4, h: 4 },
      },
      FORMAT.table,
      `SELECT count() AS incidents\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE last_seen >= $__fromTime AND ${ALL('namespace', 'namespace')}`,
    ),
    sqlPanel(
      O,
      {
        type: 'stat',
        title: 'Gaps',
        description: 'Watch gaps (410 Gone, silent closes) overlapping the range: events in them may be missing.',
        gridPos: { x: 16, y: 0, w: 4, h: 4 },
      },
      FORMAT.table,
      `SELECT count() AS gaps\nFROM kec.gaps\nWHERE to_time >= $__fromTime AND from_time <= $__toTime\n  AND ${ALL('cluster', 'cluster')}`,
      { rows: true },
    ),
    promPanel(
      {
        type: 'stat',
        title: 'Dead letters',
        description: 'Messages dead-lettered by any stage in the range (Prometheus).',
        gridPos: { x: 20, y: 0, w: 4, h: 4 },
      },
      [
        [
          'sum(increase(kec_bus_messages_dead_lettered_total[$__range])) + sum(increase(kec_watcher_dead_letters_total[$__range]))',
          'dead letters',
        ],
      ],
    ),
    rollupSeries(
      'Occurrences by type',
      'Event occurrences per interval, Normal and Warning.',
      [0, 4],
      'type',
      'sum(occurrences) AS occurrences',
    ),
    rollupSeries(
      'Occurrences by severity',
      'Occurrences per interval by the severity kec classified.',
      [12, 4],
      'severity',
      'sum(occurrences) AS occurrences',
    ),
    rollupSeries(
      'Event objects by type',
      'Distinct Event objects with new occurrences per interval.',
      [0, 12],
      'type',
      'uniqExact(uid_hash) AS events',
    ),
    rollupSeries(
      'Warning rate by namespace',
      'Warning occurrences per second, by namespace.',
      [12, 12],
      'namespace',
      'sum(occurrences) / $__interval_s AS warnings_per_second',
      "\n  AND type = 'Warning'",
      'ops',
    ),
    sqlPanel(
      O,
      {
        type: 'table',
        title: 'Top reasons',
        description: 'Reasons by occurrences in the range.',
        gridPos: { x: 0, y: 20, w: 12, h: 9 },
      },
      FORMAT.table,
      `SELECT reason, type, sum(occurrences) AS occurrences, uniqExact(uid_hash) AS events\nFROM kec.events_per_minute\nWHERE ${ROLLUP_FILTER}\nGROUP BY reason, type\nORDER BY occurrences DESC\nLIMIT 20`,
    ),
    sqlPanel(
      O,
      {
        type: 'table',
        title: 'Top workloads',
        description: 'Owning workloads by Warning occurrences in the range.',
        gridPos: { x: 12, y: 20, w: 12, h: 9 },
      },
      FORMAT.table,
      `SELECT namespace, workload_kind, workload_name, sum(occurrences) AS warnings, uniqExact(uid_hash) AS events\nFROM kec.events_per_minute\nWHERE ${ROLLUP_FILTER}\n  AND type = 'Warning' AND workload_name != ''\nGROUP BY namespace, workload_kind, workload_name\nORDER BY warnings DESC\nLIMIT 20`,
    ),
    sqlPanel(
      O,
      {
        type: 'table',
        title: 'Gaps in range',
        description: 'Watch gaps: changes in (from, to] were recovered only as the state the relist returned.',
        gridPos: { x: 0, y: 29, w: 24, h: 6 },
      },
      FORMAT.table,
      `SELECT from_time, to_time, cluster, reason, detected_by, from_resource_version, to_resource_version\nFROM kec.gaps\nWHERE to_time >= $__fromTime AND from_time <= $__toTime\n  AND ${ALL('cluster', 'cluster')}\nORDER BY from_time DESC\nLIMIT 100`,
    ),
  ],
  [CLUSTER_VAR, NAMESPACE_VAR],
);

// --- 2. Incidents ---------------------------------------------------------------------------------------------------
const I = 'kec-incidents';
const INCIDENT_FILTER = `${ALL('namespace', 'namespace')} AND ${ALL('category', 'category')} AND ${ALL('severity', 'severity')}`;
/** Incidents as annotations: a region from the first event to the resolve (a point while open). */
const INCIDENT_ANNOTATION: AnnotationQuery<ClickHouseAnnotationTarget> = {
  name: 'Incidents',
  enable: true,
  hide: false,
  iconColor: '#F2495C',
  datasource: CLICKHOUSE,
  target: {
    refId: 'Anno',
    editorType: 'sql',
    format: FORMAT.table,
    rawSql: `SELECT first_seen AS time, if(state = 'resolved', last_seen, NULL) AS timeEnd,\n  concat(title, ' [', state, ']') AS text, [severity, category, namespace] AS tags\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE last_seen >= $__fromTime AND ${INCIDENT_FILTER}\nORDER BY time`,
  },
};
export const incidents = dashboard(
  I,
  'kec / Incidents',
  'Open and recent incidents with their root cause, time to resolve by category; incidents as annotations (open to resolve).',
  [
    sqlPanel(
      I,
      {
        type: 'table',
        title: 'Open incidents',
        description: 'Incidents whose latest state is open, newest activity first.',
        gridPos: { x: 0, y: 0, w: 24, h: 8 },
      },
      FORMAT.table,
      `SELECT last_seen, first_seen, namespace, severity, category, title, root_cause_reason, root_cause_object, event_count, occurrence_count, id\nFROM (\n  ${LATEST_INCIDENTS}\n)\nWHERE state = 'open' AND ${INCIDENT_FILTER}\nORDER BY last_seen DESC\nLIMIT 200`,
      { rows: false },
    ),
    sqlPanel(
      I,
      {
        type: 'table',
        title: 'Recent incidents',
        description: 'Incidents active in the range, with root cause and time to resolve.',
        gridPos: { x: 0, y: 8, w: 24, h: 10 },
      },
      FORMAT.table,
      `SELECT first_seen, last_seen, state, namespace, severity, category, title, root_cause_reason, root_cause_object, root_cause_why,\n  if(state = 'resolved', dateDiff('second', first_seen, last_seen), NULL) AS seconds_to_resolve,\n  event_count, occurrence_count, id\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE last_seen >= $__fromTime AND ${INCIDENT_FILTER}\nORDER BY first_seen DESC\nLIMIT 500`,
    ),
    sqlPanel(
      I,
      {
        type: 'timeseries',
        title: 'Incidents opened by category',
        description: 'New incidents per interval, by category.',
        gridPos: { x: 0, y: 18, w: 12, h: 8 },
      },
      FORMAT.timeseries,
      `SELECT $__timeInterval(first_seen) AS time, category, count() AS incidents\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE $__timeFilter(first_seen) AND ${INCIDENT_FILTER}\nGROUP BY time, category\nORDER BY time`,
    ),
    sqlPanel(
      I,
      {
        type: 'table',
        title: 'Time to resolve by category',
        description: 'Resolved incidents in the range: count and time from first to last event (p50, p90, max).',
        gridPos: { x: 12, y: 18, w: 12, h: 8 },
        unit: 's',
      },
      FORMAT.table,
      `SELECT category, count() AS resolved,\n  quantile(0.5)(dateDiff('second', first_seen, last_seen)) AS p50_seconds,\n  quantile(0.9)(dateDiff('second', first_seen, last_seen)) AS p90_seconds,\n  max(dateDiff('second', first_seen, last_seen)) AS max_seconds\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE state = 'resolved' AND last_seen >= $__fromTime AND ${INCIDENT_FILTER}\nGROUP BY category\nORDER BY resolved DESC`,
    ),
    sqlPanel(
      I,
      {
        type: 'piechart',
        title: 'Root causes',
        description: 'Reasons of the incidents\u2019 root-cause events in the range.',
        gridPos: { x: 0, y: 26, w: 12, h: 8 },
      },
      FORMAT.table,
      `SELECT root_cause_reason, count() AS incidents\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE last_seen >= $__fromTime AND ${INCIDENT_FILTER}\nGROUP BY root_cause_reason\nORDER BY incidents DESC\nLIMIT 15`,
    ),
    sqlPanel(
      I,
      {
        type: 'barchart',
        title: 'Incidents by namespace and state',
        description: 'Incidents active in the range per namespace.',
        gridPos: { x: 12, y: 26, w: 12, h: 8 },
      },
      FORMAT.table,
      `SELECT namespace, countIf(state = 'open') AS open, countIf(state = 'resolved') AS resolved\nFROM (\n  ${ACTIVE_INCIDENTS}\n)\nWHERE last_seen >= $__fromTime AND ${INCIDENT_FILTER}\nGROUP BY namespace\nORDER BY open + resolved DESC\nLIMIT 20`,
    ),
  ],
  [
    CLUSTER_VAR,
    NAMESPACE_VAR,
    sqlVariable(
      'category',
      'Category',
      `SELECT DISTINCT category FROM kec.incidents WHERE last_seen >= $__fromTime ORDER BY category`,
    ),
    sqlVariable(
      'severity',
      'Severity',
      `SELECT DISTINCT severity FROM kec.incidents WHERE last_seen >= $__fromTime ORDER BY severity`,
    ),
  ],
  [INCIDENT_ANNOTATION],
);

// --- 3. Namespace and workload drill-down --------------------------------------------------------------------------
const D = 'kec-drilldown';
/** The five drill-down variables on a table's columns (`t` a table alias prefix such as 'o.'). */
const drillFilter = (t = '', indent = '\n  AND ') =>
  [
    ALL(`${t}cluster`, 'cluster'),
    ALL(`${t}namespace`, 'namespace'),
    ALL(`${t}workload_name`, 'workload'),
    ALL(`${t}reason`, 'reason'),
    ALL(`${t}severity`, 'severity'),
  ].join(indent);
const DRILL_FILTER = drillFilter();
export const drilldown = dashboard(
  D,
  'kec / Namespace and workload',
  'Drill down by cluster, namespace, workload, reason and severity (each variable may be All).',
  [
    sqlPanel(
      D,
      {
        type: 'timeseries',
        title: 'Occurrences by reason',
        description: 'Occurrences per interval for the selection, by reason.',
        gridPos: { x: 0, y: 0, w: 12, h: 8 },
      },
      FORMAT.timeseries,
      `SELECT $__timeInterval(minute) AS time, reason, sum(occurrences) AS occurrences\nFROM kec.events_per_minute\nWHERE $__timeFilter(minute)\n  AND ${DRILL_FILTER}\nGROUP BY time, reason\nORDER BY time`,
    ),
    sqlPanel(
      D,
      {
        type: 'timeseries',
        title: 'Occurrences by workload',
        description: 'Occurrences per interval for the selection, by owning workload.',
        gridPos: { x: 12, y: 0, w: 12, h: 8 },
      },
      FORMAT.timeseries,
      `SELECT $__timeInterval(minute) AS time, concat(namespace, '/', workload_kind, '/', workload_name) AS workload, sum(occurrences) AS occurrences\nFROM kec.events_per_minute\nWHERE $__timeFilter(minute)\n  AND workload_name != ''\n  AND ${DRILL_FILTER}\nGROUP BY time, workload\nORDER BY time`,
    ),
    sqlPanel(
      D,
      {
        type: 'table',
        title: 'Reasons by workload',
        description: 'Occurrences and Event objects for the selection.',
        gridPos: { x: 0, y: 8, w: 12, h: 9 },
      },
      FORMAT.table,
      `SELECT namespace, workload_kind, workload_name, reason, severity, sum(occurrences) AS occurrences, uniqExact(uid_hash) AS events\nFROM kec.events_per_minute\nWHERE $__timeFilter(minute)\n  AND ${DRILL_FILTER}\nGROUP BY namespace, workload_kind, workload_name, reason, severity\nORDER BY occurrences DESC\nLIMIT 50`,
    ),
    sqlPanel(
      D,
      {
        type: 'table',
        title: 'Events',
        description: 'Latest state of the Event objects seen in the range (newest first).',
        gridPos: { x: 12, y: 8, w: 12, h: 9 },
      },
      FORMAT.table,
      `SELECT last_timestamp AS last_seen, namespace, type, reason, concat(regarding_kind, '/', regarding_name) AS object, count, severity, category, note AS message\nFROM (\n  SELECT * FROM kec.events\n  WHERE $__timeFilter(last_timestamp)\n    AND ${drillFilter('', '\n    AND ')}\n  ORDER BY version DESC\n  LIMIT 1 BY uid\n)\nORDER BY last_seen DESC\nLIMIT 200`,
    ),
    sqlPanel(
      D,
      {
        type: 'logs',
        title: 'Occurrences as log lines',
        description: 'Every stored observation of the selection with its message (newest first).',
        gridPos: { x: 0, y: 17, w: 24, h: 12 },
        options: {
          showTime: true,
          wrapLogMessage: true,
          sortOrder: LogsSortOrder.Descending,
          enableLogDetails: true,
          dedupStrategy: LogsDedupStrategy.none,
          prettifyLogMessage: false,
          showCommonLabels: false,
          showLabels: false,
        },
      },
      FORMAT.logs,
      `SELECT o.time AS timestamp,\n  if(o.type = 'Warning', 'warning', 'info') AS level,\n  concat(o.reason, ' ', o.regarding_kind, '/', o.regarding_name, ' (x', toString(o.count), '): ', e.note) AS body,\n  o.namespace AS namespace, o.workload_name AS workload, o.severity AS severity, o.occurrences AS occurrences\nFROM kec.occurrences AS o\nLEFT JOIN (\n  SELECT uid, argMax(note, version) AS note FROM kec.events\n  WHERE last_timestamp >= $__fromTime AND ${ALL('cluster', 'cluster')} AND ${ALL('namespace', 'namespace')}\n  GROUP BY uid\n) AS e ON e.uid = o.uid\nWHERE $__timeFilter(o.time)\n  AND ${drillFilter('o.')}\nORDER BY timestamp DESC\nLIMIT 1000`,
    ),
  ],
  [
    CLUSTER_VAR,
    NAMESPACE_VAR,
    sqlVariable(
      'workload',
      'Workload',
      `SELECT DISTINCT workload_name FROM kec.occurrences WHERE $__timeFilter(time) AND workload_name != '' AND ${ALL('cluster', 'cluster')} AND ${ALL('namespace', 'namespace')} ORDER BY workload_name`,
    ),
    sqlVariable(
      'reason',
      'Reason',
      `SELECT DISTINCT reason FROM kec.events_per_minute_state WHERE $__timeFilter(minute) AND ${ALL('cluster', 'cluster')} AND ${ALL('namespace', 'namespace')} ORDER BY reason`,
    ),
    sqlVariable(
      'severity',
      'Severity',
      `SELECT DISTINCT severity FROM kec.occurrences WHERE $__timeFilter(time) AND ${ALL('cluster', 'cluster')} AND ${ALL('namespace', 'namespace')} ORDER BY severity`,
    ),
  ],
);

// --- 4. One object's history ----------------------------------------------------------------------------------------
const H = 'kec-object';
/** The object the variables name (`t` a table alias prefix such as 'o.'). */
const objectFilter = (t = '') =>
  `${t}cluster = '\${cluster}' AND ${t}namespace = '\${namespace}' AND ${t}regarding_kind = '\${kind}' AND ${t}regarding_name = '\${object}'`;
const OBJECT_FILTER = objectFilter();
export const objectHistory = dashboard(
  H,
  'kec / Object history',
  'One object (kind, namespace, name): its events as log lines, its occurrences over time, the incidents it is in.',
  [
    sqlPanel(
      H,
      {
        type: 'logs',
        title: 'Events of the object',
        description: 'Every stored observation of the object\u2019s Events with the message (newest first).',
        gridPos: { x: 0, y: 0, w: 24, h: 12 },
        options: {
          showTime: true,
          wrapLogMessage: true,
          sortOrder: LogsSortOrder.Descending,
          enableLogDetails: true,
          dedupStrategy: LogsDedupStrategy.none,
        },
      },
      FORMAT.logs,
      `SELECT o.time AS timestamp,\n  if(o.type = 'Warning', 'warning', 'info') AS level,\n  concat(o.reason, ' (x', toString(o.count), '): ', e.note) AS body,\n  o.watch_type AS watch_type, o.occurrences AS occurrences, o.severity AS severity, o.incident_id AS incident\nFROM kec.occurrences AS o\nLEFT JOIN (\n  SELECT uid, argMax(note, version) AS note FROM kec.events\n  WHERE ${OBJECT_FILTER}\n  GROUP BY uid\n) AS e ON e.uid = o.uid\nWHERE $__timeFilter(o.time) AND ${objectFilter('o.')}\nORDER BY timestamp DESC\nLIMIT 1000`,
    ),
    sqlPanel(
      H,
      {
        type: 'timeseries',
        title: 'Occurrences of the object',
        description: 'Occurrences per interval by reason.',
        gridPos: { x: 0, y: 12, w: 12, h: 8 },
      },
      FORMAT.timeseries,
      `SELECT $__timeInterval(time) AS time, reason, sum(occurrences) AS occurrences\nFROM kec.occurrences\nWHERE $__timeFilter(time) AND ${OBJECT_FILTER}\nGROUP BY time, reason\nORDER BY time`,
    ),
    sqlPanel(
      H,
      {
        type: 'table',
        title: 'Event objects',
        description: 'The Event objects about this object: latest state.',
        gridPos: { x: 12, y: 12, w: 12, h: 8 },
      },
      FORMAT.table,
      `SELECT last_timestamp AS last_seen, first_timestamp AS first_seen, type, reason, count, severity, category, deleted, note AS message, uid\nFROM kec.events\nWHERE ${OBJECT_FILTER} AND last_timestamp >= $__fromTime\nORDER BY version DESC\nLIMIT 1 BY uid\nLIMIT 100`,
    ),
    sqlPanel(
      H,
      {
        type: 'table',
        title: 'Incidents of the object',
        description: 'Incidents that this object\u2019s events joined.',
        gridPos: { x: 0, y: 20, w: 24, h: 6 },
      },
      FORMAT.table,
      `SELECT first_seen, last_seen, state, severity, category, title, root_cause_reason, root_cause_object, id\nFROM (\n  ${latestIncidents("i.cluster = '${cluster}'", true)}\n)\nWHERE id IN (\n  SELECT DISTINCT incident_id FROM kec.occurrences\n  WHERE $__timeFilter(time) AND ${OBJECT_FILTER} AND incident_id != ''\n)\nORDER BY first_seen DESC`,
    ),
  ],
  [
    sqlSingle('cluster', 'Cluster', 'SELECT DISTINCT cluster FROM kec.events_per_minute_state ORDER BY cluster'),
    sqlSingle(
      'namespace',
      'Namespace',
      `SELECT DISTINCT namespace FROM kec.events_per_minute_state WHERE cluster = '\${cluster}' ORDER BY namespace`,
    ),
    sqlSingle(
      'kind',
      'Kind',
      `SELECT DISTINCT kind FROM kec.events_per_minute_state WHERE cluster = '\${cluster}' AND namespace = '\${namespace}' ORDER BY kind`,
    ),
    sqlSingle(
      'object',
      'Name',
      `SELECT DISTINCT regarding_name FROM kec.occurrences WHERE $__timeFilter(time) AND cluster = '\${cluster}' AND namespace = '\${namespace}' AND regarding_kind = '\${kind}' ORDER BY regarding_name LIMIT 1000`,
    ),
  ],
);

// --- 5. Pipeline health (Prometheus) ------------------------------------------------------------------------------
const RI = '$__rate_interval';
export const pipeline = dashboard(
  'kec-pipeline',
  'kec / Pipeline health',
  'kec\u2019s own metrics: per-stage throughput, consumer backlog, redeliveries, dead letters, leaders, gaps, notification latency.',
  [
    row('Throughput', 0),
    promPanel(
      {
        type: 'timeseries',
        title: 'Per-stage throughput',
        description: 'Messages per second: watcher publishes, then each stage\u2019s consumer.',
        gridPos: { x: 0, y: 1, w: 12, h: 8 },
        unit: 'ops',
      },
      [
        [`sum(rate(kec_watcher_events_published_total[${RI}]))`, 'watcher published'],
        [`sum by (consumer) (rate(kec_bus_messages_processed_total[${RI}]))`, '{{consumer}} processed'],
        [`sum by (table) (rate(kec_writer_rows_written_total[${RI}]))`, 'writer rows {{table}}'],
      ],
    ),
    promPanel(
      {
        type: 'timeseries',
        title: 'Consumer backlog',
        description: 'Messages not yet delivered (pending) and delivered but not acked, per consumer.',
        gridPos: { x: 12, y: 1, w: 12, h: 8 },
      },
      [
        ['max by (stream, consumer) (kec_bus_consumer_pending)', '{{consumer}} pending'],
        ['max by (stream, consumer) (kec_bus_consumer_ack_pending)', '{{consumer}} ack pending'],
      ],
    ),
    row('Failures', 9),
    promPanel(
      {
        type: 'timeseries',
        title: 'Redeliveries',
        description: 'Messages delivered more than once, per consumer (a retried failure or a crash).',
        gridPos: { x: 0, y: 10, w: 8, h: 8 },
        unit: 'ops',
      },
      [[`sum by (consumer) (rate(kec_bus_messages_redelivered_total[${RI}]))`, '{{consumer}}']],
    ),
    promPanel(
      {
        type: 'timeseries',
        title: 'Dead letters',
        description: 'Messages dead-lettered per stage (bad input, refused for good).',
        gridPos: { x: 8, y: 10, w: 8, h: 8 },
      },
      [
        [`sum by (consumer) (increase(kec_bus_messages_dead_lettered_total[${RI}]))`, '{{consumer}}'],
        [`sum by (reason) (increase(kec_watcher_dead_letters_total[${RI}]))`, 'watcher {{reason}}'],
        [`sum(increase(kec_notify_notifications_dead_lettered_total[${RI}]))`, 'notifications'],
      ],
    ),
    promPanel(
      {
        type: 'timeseries',
        title: 'Gaps and relists',
        description: 'Watch gaps recorded and relists, by reason.',
        gridPos: { x: 16, y: 10, w: 8, h: 8 },
      },
      [
        [`sum by (reason) (increase(kec_watcher_gaps_total[${RI}]))`, 'gap {{reason}}'],
        [`sum by (reason) (increase(kec_watcher_relists_total[${RI}]))`, 'relist {{reason}}'],
      ],
    ),
    row('Leaders and latency', 18),
    promPanel(
      {
        type: 'stat',
        title: 'Leaders',
        description: 'Replicas holding the watcher Lease and the enricher filler Lease (1 each when healthy).',
        gridPos: { x: 0, y: 19, w: 8, h: 8 },
      },
      [
        ['sum(kec_watcher_leader)', 'watcher leaders'],
        ['sum(kec_enricher_filler_leader)', 'enricher fillers'],
      ],
    ),
    promPanel(
      {
        type: 'timeseries',
        title: 'Stage lag',
        description: 'Event time to processing, p99, per stage.',
        gridPos: { x: 8, y: 19, w: 8, h: 8 },
        unit: 's',
      },
      [
        [`histogram_quantile(0.99, sum by (le) (rate(kec_watcher_event_lag_seconds_bucket[${RI}])))`, 'watcher p99'],
        [`histogram_quantile(0.99, sum by (le) (rate(kec_enricher_lag_seconds_bucket[${RI}])))`, 'enricher p99'],
        [`histogram_quantile(0.99, sum by (le) (rate(kec_correlator_lag_seconds_bucket[${RI}])))`, 'correlator p99'],
      ],
    ),
    promPanel(
      {
        type: 'timeseries',
        title: 'Notification latency',
        description: 'From the alert decision to the receiver\u2019s answer, p50 and p99.',
        gridPos: { x: 16, y: 19, w: 8, h: 8 },
        unit: 's',
      },
      [
        [`histogram_quantile(0.5, sum by (le) (rate(kec_notify_notification_latency_seconds_bucket[${RI}])))`, 'p50'],
        [`histogram_quantile(0.99, sum by (le) (rate(kec_notify_notification_latency_seconds_bucket[${RI}])))`, 'p99'],
      ],
    ),
  ],
  [],
);

export const DASHBOARDS: Record<string, Dashboard> = {
  'kec-overview.json': overview,
  'kec-incidents.json': incidents,
  'kec-drilldown.json': drilldown,
  'kec-object.json': objectHistory,
  'kec-pipeline.json': pipeline,
};
