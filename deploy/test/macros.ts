// A test implementation of what Grafana and the grafana-clickhouse-datasource plugin (v4.20) do to a panel's SQL
// before ClickHouse sees it, with the plugin's semantics (read from grafana/clickhouse-datasource):
// 1. frontend, src/data/CHDatasource.ts applyConditionalAll: from the last `$__conditionalAll(` backwards, the
//    macro becomes `1=1` when its variable's current value is '' or '$__all', else its first argument;
// 2. frontend, templateSrv.replace with the plugin's format(): a multi-value variable becomes 'a','b' (All: every
//    option), a single value is inserted as is; `$var`, `${var}` and `[[var]]` of known variables only;
// 3. backend, pkg/macros/macros.go (macropro): $__timeFilter(c) -> c >= toDateTime(from) AND c <= toDateTime(to);
//    $__timeFilter_ms; $__fromTime/$__toTime -> toDateTime(s); $__fromTime_ms/$__toTime_ms ->
//    fromUnixTimestamp64Milli(ms); $__timeInterval(c) -> toStartOfInterval(toDateTime(c), INTERVAL n second) with
//    n = max(interval seconds, 1); $__timeInterval_ms; $__interval_s -> n; $__dateFilter; $__timeFrom/$__timeTo;
//    $__timeGroup(c, '5m'). Unknown macros are left in place (the test then fails on a leftover `$__`).

export interface VariableValue {
  /** The selected values; ['$__all'] for All. */
  value: string[];
  /** Every option (what All expands to). */
  options: string[];
  multi: boolean;
}

export interface QueryContext {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  variables: Record<string, VariableValue>;
}

/** Grafana's interval for a range: range / max data points, at least 1 s (the panel's min interval). */
export function intervalFor(fromMs: number, toMs: number, maxDataPoints = 1000): number {
  return Math.max(1000, Math.round((toMs - fromMs) / maxDataPoints / 1000) * 1000);
}

/** Arguments of a call starting at `open` (the index of its '('), split on depth-1 commas, as getMacroArgs does. */
function callArgs(s: string, open: number): { args: string[]; end: number } | undefined {
  let depth = 0;
  let last = open + 1;
  const args: string[] = [];
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 1) {
      args.push(s.slice(last, i));
      last = i + 1;
    }
    if (depth === 0) {
      args.push(s.slice(last, i));
      return { args, end: i + 1 };
    }
  }
  return undefined;
}

export function applyConditionalAll(sql: string, vars: Record<string, VariableValue>): string {
  const macro = '$__conditionalAll(';
  let at = sql.lastIndexOf(macro);
  while (at !== -1) {
    const call = callArgs(sql, at + macro.length - 1);
    if (call?.args.length !== 2) return sql;
    const [phrase0, varParam] = call.args as [string, string];
    const name = /(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+/.exec(varParam.trim())?.[0];
    let phrase = phrase0;
    if (name) {
      const v = vars[name];
      const current = v?.value.toString();
      if (current === '' || current === '$__all') phrase = '1=1';
    }
    sql = sql.slice(0, at) + phrase + sql.slice(call.end);
    at = sql.lastIndexOf(macro);
  }
  return sql;
}

export function replaceVariables(sql: string, vars: Record<string, VariableValue>): string {
  const format = (v: VariableValue): string => {
    const values = v.value.length === 1 && v.value[0] === '$__all' ? v.options : v.value;
    return v.multi ? `'${values.join("','")}'` : (values[0] ?? '');
  };
  return sql.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const v = vars[name];
    return v ? format(v) : whole;
  });
}

const dt = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;
const dt64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;

function durationSeconds(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim().replace(/^['"]|['"]$/g, ''));
  if (!m) throw new Error(`$__timeGroup: invalid interval ${s}`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, d: n * 86400 }[m[2] as 'ms'] as number;
}

export function expandBackendMacros(sql: string, ctx: Omit<QueryContext, 'variables'>): string {
  const seconds = Math.max(Math.floor(ctx.intervalMs / 1000), 1);
  const withArgs: Record<string, (a: string[]) => string> = {
    timeFilter: ([c]) => `${c} >= ${dt(ctx.fromMs)} AND ${c} <= ${dt(ctx.toMs)}`,
    timeFilter_ms: ([c]) => `${c} >= ${dt64(ctx.fromMs)} AND ${c} <= ${dt64(ctx.toMs)}`,
    dateFilter: ([c]) => `${c} >= ${date(ctx.fromMs)} AND ${c} <= ${date(ctx.toMs)}`,
    timeFrom: ([c]) => `${c} >= ${dt(ctx.fromMs)}`,
    timeTo: ([c]) => `${c} <= ${dt(ctx.toMs)}`,
    timeInterval: ([c]) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${seconds} second)`,
    timeInterval_ms: ([c]) =>
      `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(ctx.intervalMs, 1)} millisecond)`,
    timeGroup: ([c, p]) =>
      `toStartOfInterval(toDateTime(${(c as string).trim()}), INTERVAL ${Math.round(durationSeconds(p as string))} second)`,
  };
  const bare: Record<string, () => string> = {
    fromTime: () => dt(ctx.fromMs),
    toTime: () => dt(ctx.toMs),
    fromTime_ms: () => dt64(ctx.fromMs),
    toTime_ms: () => dt64(ctx.toMs),
    interval_s: () => String(seconds),
  };
  let out = '';
  let i = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const name = m[1] as string;
    const after = m.index + m[0].length;
    if (withArgs[name] && sql[after] === '(') {
      const call = callArgs(sql, after);
      if (!call) throw new Error(`unclosed $__${name}(`);
      out += sql.slice(i, m.index) + withArgs[name](call.args.map((a) => a.trim()));
      i = call.end;
      re.lastIndex = call.end;
    } else if (bare[name]) {
      out += sql.slice(i, m.index) + bare[name]();
      i = after;
    }
  }
  return out + sql.slice(i);
}

/** Everything between the panel's rawSql and ClickHouse. */
export function expand(rawSql: string, ctx: QueryContext): string {
  const frontend = replaceVariables(applyConditionalAll(rawSql, ctx.variables), ctx.variables);
  return expandBackendMacros(frontend, ctx);
}
