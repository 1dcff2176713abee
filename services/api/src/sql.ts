// POST /api/v1/sql: read-only SQL, enforced by the engine.
//
// What the engine enforces (settings of the connection, which `readonly = 1` makes impossible to change from a
// statement, its SETTINGS clause or SET): readonly = 1 (no writes, no DDL, no setting changes, and no table
// function that needs CREATE TEMPORARY TABLE: file, url, s3, remote, mysql, postgresql, hdfs, executable, ...),
// max_execution_time, max_result_rows / max_result_bytes with result_overflow_mode = break, max_memory_usage,
// allow_introspection_functions = 0. On the embedded engine they are connection arguments of the API's own chdb
// connection; over HTTP they are sent with every request (and a server deployment should also use a read-only
// user, see the README).
//
// What kec adds, because the engine alone does not do it here, using the engine's own parser (never a regex on
// the user's text):
// 1. one statement: `formatQuerySingleLine` parses the text as exactly one statement (multi-statements are a
//    syntax error) and returns its canonical form without comments; only that canonical text is run. chdb, like
//    clickhouse-local, would otherwise run every statement of a multi-statement text and honour INTO OUTFILE
//    (both client-side features that a server refuses itself).
// 2. `EXPLAIN AST` of the canonical text (parsing only: no analysis, so no constant folding that could already
//    evaluate a function such as file()) is checked:
//    - statement kinds: SELECT/WITH, DESCRIBE, SHOW TABLES/DATABASES/CREATE TABLE, EXISTS, EXPLAIN;
//    - no INTO OUTFILE and no FORMAT (children of the statement node);
//    - tables only in the kec database (a qualified name in another database, e.g. system.settings, and
//      identifiers that start with system./information_schema. are refused);
//    - table functions only from an allow-list of generators (numbers, zeros, values, generateSeries, view, ...);
//    - no scalar function that reads files or settings: file (readonly does not stop the scalar file() in
//      chdb), getSetting, getServerSetting, dictGet*/joinGet (name tables by string), catboostEvaluate, ...
//    - no `{name:Identifier}` parameters (they could name a table the check did not see).
import type { QueryParams, Store } from '@kec/store';
import { StoreError, StoreUnavailableError } from '@kec/store';
import { ApiError, BadRequestError, SqlRefusedError, UnavailableError } from './errors.ts';

export interface SqlLimits {
  timeoutSeconds: number;
  maxRows: number;
  maxResultBytes: number;
  maxMemoryBytes: number;
}

/** The engine settings of the SQL endpoint's connection. */
export function sqlSettings(l: SqlLimits): Record<string, string | number> {
  return {
    readonly: 1,
    max_execution_time: l.timeoutSeconds,
    timeout_overflow_mode: 'throw',
    // One row more than returned, so a cut result is recognised.
    max_result_rows: l.maxRows + 1,
    max_result_bytes: l.maxResultBytes,
    result_overflow_mode: 'break',
    max_memory_usage: l.maxMemoryBytes,
    allow_introspection_functions: 0,
  };
}

/** The engine settings of the routes' connection: read-only too, with a time and memory bound but no row cut. */
export function routeSettings(timeoutSeconds: number, maxMemoryBytes: number): Record<string, string | number> {
  return {
    readonly: 1,
    max_execution_time: timeoutSeconds,
    timeout_overflow_mode: 'throw',
    max_memory_usage: maxMemoryBytes,
    allow_introspection_functions: 0,
  };
}

const ALLOWED_KINDS =
  /^(?:SELECT|WITH|\(|DESCRIBE TABLE|DESC TABLE|SHOW (?:FULL )?TABLES|SHOW DATABASES|SHOW (?:FULL )?COLUMNS|SHOW CREATE (?:TABLE|VIEW)|EXISTS|EXPLAIN)\b/i;

const TABLE_FUNCTIONS_ALLOWED = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generateseries',
  'generate_series',
  'values',
  'null',
  'view',
  'generaterandom',
  'primes',
]);

const FUNCTIONS_REFUSED = new Set([
  'file',
  'getsetting',
  'getsettingordefault',
  'getserversetting',
  'getmergetreesetting',
  'catboostevaluate',
  'getclienthttpheader',
  'currentprofiles',
  'enabledprofiles',
  'defaultprofiles',
  'currentroles',
  'enabledroles',
  'defaultroles',
  'getmacro',
  'zookeepersessionuptime',
  'hascolumnintable',
  'filesystemavailable',
  'filesystemcapacity',
  'filesystemunreserved',
]);
const FUNCTION_PREFIXES_REFUSED = ['dictget', 'dicthas', 'dictisin', 'joinget'];
const FOREIGN_DATABASES = new Set(['system', 'information_schema', 'default']);

/** Splits `a.b` / `` `a`.`b` `` into its parts. */
function nameParts(name: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (c === '`' || c === '"') quoted = !quoted;
    else if (c === '.' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/**
 * SHOW statements name their database and table as plain `Identifier` children, where other statements have their
 * FORMAT: returns the indices of those lines after checking that the database is ours. SHOW COLUMNS keeps its table
 * out of the AST entirely, so it cannot be checked and is refused (DESCRIBE TABLE answers the same).
 */
function showStatementNames(lines: readonly string[], database: string, canonical: string): Set<number> {
  const names = new Set<number>();
  const root = (lines[0] ?? '').trim();
  const [node = '', ...header] = root.replace(/\s*\(children \d+\)$/, '').split(/\s+/);
  const ours = (db: string) => {
    if (nameParts(db)[0] !== database) {
      throw new SqlRefusedError(`only tables of the ${database} database can be read (got ${db})`);
    }
  };
  if (node === 'ShowColumns') throw new SqlRefusedError('SHOW COLUMNS is not allowed: use DESCRIBE TABLE');
  const children = lines.flatMap((l, i) => (l.length - l.trimStart().length === 1 ? [[i, l.trim()] as const] : []));
  // The backend may append FORMAT JSONEachRow, another Identifier child: only a FROM/IN names a database.
  if (node === 'ShowTables' && /^SHOW (?:FULL )?TABLES (?:FROM|IN) /i.test(canonical)) {
    const first = children[0];
    const db = first && /^Identifier (\S+)$/.exec(first[1]);
    if (first && db) {
      ours(db[1] as string);
      names.add(first[0]);
    }
  } else if (node === 'ShowCreateTableQuery' || node === 'ShowCreateViewQuery') {
    if (header.length > 1) ours(header[0] as string);
    for (const [i, text] of children.slice(0, header.length)) {
      if (/^Identifier /.test(text)) names.add(i);
    }
  }
  return names;
}

/** Checks the `EXPLAIN AST` lines of one canonical statement; throws SqlRefusedError naming what is refused. */
export function checkAst(lines: readonly string[], database: string, canonical = ''): void {
  const ownNames = showStatementNames(lines, database, canonical);
  const stack: { indent: number; node: string }[] = [];
  for (const [i, line] of lines.entries()) {
    if (ownNames.has(i)) continue;
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    const parent = stack[stack.length - 1]?.node ?? '';
    stack.push({ indent, node: text.split(' ')[0] as string });
    // Output options are children of the statement: INTO OUTFILE a Literal, FORMAT an Identifier (JSONEachRow is
    // what the API asks for anyway; a server-side tail such as chdb-http's adds exactly that one).
    if (indent === 1 && text.startsWith('Literal ')) throw new SqlRefusedError('INTO OUTFILE is not allowed');
    if (indent === 1 && /^Identifier /.test(text) && text !== 'Identifier JSONEachRow') {
      throw new SqlRefusedError('FORMAT is not allowed: the API answers JSON');
    }
    const table = /^TableIdentifier (\S+)/.exec(text);
    const ident = table ? null : /^Identifier (\S+)/.exec(text);
    const func = table || ident ? null : /^Function (\S+)/.exec(text);
    if (table) {
      const parts = nameParts(table[1] as string);
      if (parts.length > 1 && parts[0] !== database) {
        throw new SqlRefusedError(`only tables of the ${database} database can be read (got ${table[1]})`);
      }
    } else if (ident) {
      const parts = nameParts(ident[1] as string);
      if (parts.length > 1 && FOREIGN_DATABASES.has((parts[0] as string).toLowerCase())) {
        throw new SqlRefusedError(`only tables of the ${database} database can be read (got ${ident[1]})`);
      }
    } else if (func) {
      const fn = (func[1] as string).toLowerCase();
      if (parent === 'TableExpression') {
        if (!TABLE_FUNCTIONS_ALLOWED.has(fn)) throw new SqlRefusedError(`table function ${func[1]}() is not allowed`);
      } else if (FUNCTIONS_REFUSED.has(fn) || FUNCTION_PREFIXES_REFUSED.some((p) => fn.startsWith(p))) {
        throw new SqlRefusedError(`function ${func[1]}() is not allowed`);
      }
    } else if (/^QueryParameter\b/.test(text) && /:\s*Identifier\b/i.test(text)) {
      throw new SqlRefusedError('Identifier parameters are not allowed');
    }
  }
}

/**
 * The engine's own message of a store error, the same text from both backends: chdb says
 * `chdb query failed: Code: 164. DB::Exception: <text>. (READONLY)`, the HTTP client `query failed: <text>.`.
 */
export function engineMessage(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  text = text.replace(/^[^:]*?(?:query|command) failed: /, '');
  // chdb repeats the message (`<m>: <m>: <m>`); keep the first
  const dup = text.search(/\)\s*: Code: \d+\. /);
  if (dup !== -1) text = text.slice(0, dup + 1);
  text = text.replace(/Code: \d+\. DB::Exception: /g, '').replace(/\s*\(version [\d.]+[^)]*\)/g, '');
  for (let prev = ''; prev !== text; ) {
    prev = text;
    text = text.replace(/[.\s]*\([A-Z_]+\)\s*$/, '').trim();
  }
  return text.replace(/\.+$/, '');
}

const FORBIDDEN_CODES = new Set([164, 497, 358, 344, 48, 291]);

/** Maps a store error of a user's statement to the API error answered. */
export function sqlError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreUnavailableError) return new UnavailableError(`store unavailable: ${engineMessage(err)}`);
  const code = err instanceof StoreError ? err.code : undefined;
  const message = engineMessage(err);
  const opts = { cause: err, ...(code !== undefined ? { clickhouseCode: code } : {}) };
  if (code === 159) return new ApiError(504, 'Timeout', message, opts);
  if (code === 36 && /output options/.test(message)) {
    return new SqlRefusedError('INTO OUTFILE and FORMAT are not allowed (the API answers JSON)', opts);
  }
  if (code !== undefined && FORBIDDEN_CODES.has(code)) return new SqlRefusedError(message, opts);
  return new BadRequestError(message, opts);
}

export interface SqlResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

/** Parses, checks and runs one statement on the read-only SQL store. Throws ApiError. */
export async function runSql(store: Store, query: string, params: QueryParams, maxRows: number): Promise<SqlResult> {
  try {
    const [fmt] = await store.query<{ q: string }>('SELECT formatQuerySingleLine({q:String}) AS q', { q: query });
    const canonical = (fmt?.q ?? '').trim();
    if (!ALLOWED_KINDS.test(canonical)) {
      throw new SqlRefusedError(
        'only SELECT, WITH, DESCRIBE, SHOW TABLES/DATABASES/CREATE TABLE, EXISTS and EXPLAIN statements are allowed',
      );
    }
    // Parameters are substituted before the AST is printed, so a {name:Identifier} shows as the table it names.
    const ast = await store.query<{ explain: string }>(`EXPLAIN AST ${canonical}`, params);
    checkAst(
      ast.map((r) => r.explain),
      store.database,
      canonical,
    );
    const rows = await store.query<Record<string, unknown>>(canonical, params);
    let columns: { name: string; type: string }[];
    if (/^(?:SELECT|WITH|\()/i.test(canonical)) {
      columns = (await store.query<{ name: string; type: string }>(`DESCRIBE TABLE (${canonical})`, params)).map(
        (c) => ({ name: c.name, type: c.type }),
      );
    } else {
      columns = Object.keys(rows[0] ?? {}).map((name) => ({ name, type: '' }));
    }
    const truncated = rows.length > maxRows;
    return { columns, rows: truncated ? rows.slice(0, maxRows) : rows, truncated };
  } catch (err) {
    throw sqlError(err);
  }
}
