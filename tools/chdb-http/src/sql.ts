// What the server needs to know about a statement before handing it to chdb, found with a small lexer of
// ClickHouse's SQL (comments, string literals, quoted identifiers, heredocs, brackets), never with regexes over
// raw text:
// - the statement kind, and whether it is one statement (ClickHouse's HTTP interface refuses multi-statements,
//   chdb would run them all);
// - its FORMAT clause (the response format), or where the data of an INSERT begins;
// - the `{name:Type}` placeholders, whose types decide how a `param_<name>` value is passed on;
// - where the URL's settings go, so that they apply to this statement only: a `SETTINGS` clause in the statement
//   (`… FORMAT f SETTINGS k = 'v'`, `INSERT INTO t SETTINGS k = 'v' FORMAT f`), never a `SET` on the shared session.
import { ChdbHttpError } from './errors.ts';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** Bracket depth of the token; an opening bracket and its closing one have the same depth. */
  depth: number;
  /** Upper-cased text for words, the character for punctuation, '' otherwise. */
  upper: string;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_\u0080-\uffff]*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eEpP][+-]?[0-9]+)?)[A-Za-z0-9_]*/y;
const HEREDOC = /\$([A-Za-z0-9_]*)\$/y;

/** ClickHouse's lexer, reduced to what the server needs. Unterminated literals run to the end (the engine reports them). */
export class Lexer {
  readonly #sql: string;
  #pos: number;
  #depth = 0;

  constructor(sql: string, pos = 0) {
    this.#sql = sql;
    this.#pos = pos;
  }

  next(): Token | undefined {
    const s = this.#sql;
    this.#skipSpaceAndComments();
    const start = this.#pos;
    if (start >= s.length) return undefined;
    const c = s[start] as string;
    if (c === "'" || c === '"' || c === '`') {
      this.#pos = quotedEnd(s, start, c);
      return this.#token(c === "'" ? 'string' : 'quoted', start, '');
    }
    if (c === '$') {
      HEREDOC.lastIndex = start;
      const m = HEREDOC.exec(s);
      if (m) {
        const close = s.indexOf(m[0], start + m[0].length);
        this.#pos = close === -1 ? s.length : close + m[0].length;
        return this.#token('string', start, '');
      }
    }
    if (WORD_START.test(c)) {
      WORD.lastIndex = start + 1;
      WORD.exec(s);
      this.#pos = WORD.lastIndex;
      return this.#token('word', start, s.slice(start, this.#pos).toUpperCase());
    }
    if (c >= '0' && c <= '9') {
      NUMBER.lastIndex = start;
      NUMBER.exec(s);
      this.#pos = Math.max(NUMBER.lastIndex, start + 1);
      return this.#token('number', start, '');
    }
    this.#pos = start + 1;
    if (c === '(' || c === '[' || c === '{') {
      const t = this.#token('punct', start, c);
      this.#depth++;
      return t;
    }
    if (c === ')' || c === ']' || c === '}') this.#depth = Math.max(0, this.#depth - 1);
    return this.#token('punct', start, c);
  }

  #token(kind: TokenKind, start: number, upper: string): Token {
    return { kind, start, end: this.#pos, depth: this.#depth, upper };
  }

  #skipSpaceAndComments(): void {
    const s = this.#sql;
    for (;;) {
      const c = s[this.#pos];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        this.#pos++;
      } else if (
        (c === '-' && s[this.#pos + 1] === '-') ||
        (c === '#' && (s[this.#pos + 1] === ' ' || s[this.#pos + 1] === '!'))
      ) {
        const nl = s.indexOf('\n', this.#pos);
        this.#pos = nl === -1 ? s.length : nl + 1;
      } else if (c === '/' && s[this.#pos + 1] === '*') {
        // ClickHouse allows nested block comments.
        let depth = 0;
        let i = this.#pos;
        while (i < s.length) {
          if (s[i] === '/' && s[i + 1] === '*') {
            depth++;
            i += 2;
          } else if (s[i] === '*' && s[i + 1] === '/') {
            depth--;
            i += 2;
            if (depth === 0) break;
          } else i++;
        }
        this.#pos = i;
      } else return;
    }
  }
}

/** End of a literal opened by `quote` at `start`: backslash escapes and a doubled quote are part of it. */
function quotedEnd(s: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === quote) {
      if (s[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return s.length;
}

/** The text of an identifier token: a bare word as is, a quoted one without its quotes and escapes. */
export function identifierText(sql: string, t: Token): string {
  const raw = sql.slice(t.start, t.end);
  if (t.kind !== 'quoted') return raw;
  const q = raw[0] as string;
  return raw.slice(1, raw.endsWith(q) && raw.length > 1 ? -1 : undefined).replace(/\\(.)|(["`])\2/gs, '$1$2');
}

// --- statements ----------------------------------------------------------------------------------------------

export interface Setting {
  name: string;
  value: string;
}

export interface PrepareOptions {
  /** Settings of this request (URL parameters that are not HTTP-level), applied to this statement only. */
  settings: readonly Setting[];
  /** `default_format` / `X-ClickHouse-Format`: the output format when the statement has no FORMAT clause. */
  defaultFormat?: string | undefined;
  /** GET request: ClickHouse runs it with readonly = 2; the caller has put `readonly` into `settings`. */
  readonly?: boolean;
}

export interface Prepared {
  /** First keyword, upper case ('SELECT', 'INSERT', …); '(' for a statement starting with a parenthesis. */
  kind: string;
  /** What to run on chdb. */
  sql: string;
  /** 'skip': nothing to run (an INSERT without data, which ClickHouse answers with success). */
  action: 'run' | 'skip';
  /** The response format; undefined for an INSERT (no output). */
  outputFormat: string | undefined;
  /** `{name:Type}` placeholders: name -> Type as written. */
  paramTypes: Map<string, string>;
}

/** Statements ClickHouse parses with an optional `FORMAT f SETTINGS …` tail (ParserQueryWithOutput). */
const OUTPUT_KINDS = new Set([
  'SELECT',
  'WITH',
  '(',
  'EXPLAIN',
  'SHOW',
  'DESCRIBE',
  'DESC',
  'EXISTS',
  'ALTER',
  'RENAME',
  'EXCHANGE',
  'DROP',
  'UNDROP',
  'TRUNCATE',
  'DETACH',
  'ATTACH',
  'CHECK',
  'OPTIMIZE',
  'KILL',
  'WATCH',
  'CREATE',
  'REPLACE',
]);
/** CREATE/ALTER/DROP of these are access or function statements, which take no FORMAT/SETTINGS tail. */
const NON_OUTPUT_OBJECTS = new Set([
  'USER',
  'ROLE',
  'QUOTA',
  'POLICY',
  'ROW',
  'SETTINGS',
  'PROFILE',
  'FUNCTION',
  'NAMED',
  'INDEX',
  'WORKLOAD',
  'RESOURCE',
  'MASKING',
]);
/** Statements with a bare `SETTINGS …` tail. */
const SETTINGS_TAIL_KINDS = new Set(['DELETE', 'UPDATE']);
/** Formats whose bytes are not text: the data of an INSERT goes to chdb as a string, so these cannot. */
const BINARY_INPUT_FORMATS = new Set(
  [
    'Native',
    'RowBinary',
    'RowBinaryWithNames',
    'RowBinaryWithNamesAndTypes',
    'RowBinaryWithDefaults',
    'Parquet',
    'Arrow',
    'ArrowStream',
    'ORC',
    'Avro',
    'AvroConfluent',
    'Protobuf',
    'ProtobufSingle',
    'ProtobufList',
    'CapnProto',
    'MsgPack',
    'BSONEachRow',
    'Npy',
    'RawBLOB',
  ].map((f) => f.toLowerCase()),
);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORMAT_NAME = /^[A-Za-z0-9_]+$/;

/** A ClickHouse string literal (backslash escapes). */
export function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A backquoted ClickHouse identifier. */
export function quoteIdentifier(s: string): string {
  return `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function settingsList(settings: readonly Setting[], skip: ReadonlySet<string>): string {
  return settings
    .filter((s) => !skip.has(s.name.toLowerCase()))
    .map((s) => `${s.name} = ${quoteString(s.value)}`)
    .join(', ');
}

/** Names assigned in a `SETTINGS a = 1, b = 2` list starting at tokens[from] (the word after SETTINGS). */
function settingNames(tokens: readonly Token[], sql: string, from: number, to: number): Set<string> {
  const names = new Set<string>();
  const depth = tokens[from]?.depth ?? 0;
  for (let i = from; i < to - 1; i++) {
    const t = tokens[i] as Token;
    if (t.depth === depth && (t.kind === 'word' || t.kind === 'quoted') && tokens[i + 1]?.upper === '=') {
      names.add(identifierText(sql, t).toLowerCase());
    }
  }
  return names;
}

/** `{name:Type}` placeholders among the tokens. */
function placeholders(tokens: readonly Token[], sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 3 < tokens.length; i++) {
    const open = tokens[i] as Token;
    const name = tokens[i + 1] as Token;
    if (open.upper !== '{' || name.kind !== 'word' || tokens[i + 2]?.upper !== ':') continue;
    let j = i + 3;
    while (j < tokens.length && !((tokens[j] as Token).upper === '}' && (tokens[j] as Token).depth === open.depth)) j++;
    const close = tokens[j];
    if (!close) break;
    const key = sql.slice(name.start, name.end);
    if (!out.has(key)) out.set(key, sql.slice((tokens[i + 3] as Token).start, close.start).trim());
    i = j;
  }
  return out;
}

const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.kind === 'word' && words.includes(t.upper);

function noSession(what: string): ChdbHttpError {
  return ChdbHttpError.of(
    'THERE_IS_NO_SESSION',
    `${what} needs an HTTP session (session_id); chdb-http shares one engine session between all requests and serves none`,
  );
}

/** Reads the remaining tokens into `tokens`, drops trailing `;`, refuses a second statement (as ClickHouse does). */
function readToSingleStatement(text: string, lexer: Lexer, tokens: Token[]): void {
  for (let t = lexer.next(); t; t = lexer.next()) tokens.push(t);
  const semi = tokens.findIndex((t) => t.upper === ';' && t.depth === 0);
  if (semi === -1) return;
  const extra = tokens.slice(semi).find((t) => t.upper !== ';');
  if (extra) {
    throw ChdbHttpError.of(
      'SYNTAX_ERROR',
      `Syntax error (Multi-statements are not allowed): failed at position ${extra.start + 1}: ${text
        .slice(extra.start, extra.start + 40)
        .replace(/\s+/g, ' ')
        .trim()}`,
    );
  }
  tokens.length = semi;
}

/**
 * Prepares one statement (the URL `query` plus the request body, as ClickHouse concatenates them) for chdb:
 * checks it is a single statement ClickHouse's HTTP interface would run, finds its output format, and applies the
 * request's settings to it. Throws ChdbHttpError with the code ClickHouse would answer.
 */
export function prepareStatement(text: string, opts: PrepareOptions): Prepared {
  for (const s of opts.settings) {
    if (!SETTING_NAME.test(s.name)) throw ChdbHttpError.of('UNKNOWN_SETTING', `Unknown setting '${s.name}'`);
  }
  if (opts.defaultFormat !== undefined && !FORMAT_NAME.test(opts.defaultFormat)) {
    throw ChdbHttpError.of('UNKNOWN_FORMAT', `Unknown format ${opts.defaultFormat}`);
  }
  const lexer = new Lexer(text);
  const tokens: Token[] = [];
  let kind = '';
  let kindAt = -1;
  for (let t = lexer.next(); t; t = lexer.next()) {
    tokens.push(t);
    if (t.kind === 'word') {
      kind = t.upper;
      kindAt = tokens.length - 1;
      break;
    }
    if (t.upper !== '(') break;
  }
  if (tokens.length === 0) throw ChdbHttpError.of('SYNTAX_ERROR', 'Empty query');
  if (kindAt === -1) kind = (tokens[0] as Token).upper || 'UNKNOWN';
  else if (kindAt > 0) kind = '(';

  if (kind === 'INSERT') return prepareInsert(text, lexer, tokens, opts);

  readToSingleStatement(text, lexer, tokens);
  const last = tokens.at(-1) as Token;
  const stmt = text.slice(0, last.end);
  const paramTypes = placeholders(tokens, text);
  const word = (i: number) => tokens[kindAt + i];

  // Statements that would change the shared engine session: ClickHouse scopes them to the request (or to an HTTP
  // session), so here they are checked and answered without touching the session.
  if (kind === 'USE') {
    const rest = text.slice((word(1) ?? last).start, last.end);
    return {
      kind,
      sql: `SHOW CREATE DATABASE ${rest} FORMAT Null`,
      action: 'run',
      outputFormat: undefined,
      paramTypes,
    };
  }
  if (kind === 'SET') {
    if (isWord(word(1), 'ROLE', 'TRANSACTION')) throw noSession(`SET ${word(1)?.upper}`);
    if (!isWord(word(1), 'DEFAULT')) {
      const rest = text.slice((word(1) ?? last).start, last.end);
      return { kind, sql: `SELECT 1 FORMAT Null SETTINGS ${rest}`, action: 'run', outputFormat: undefined, paramTypes };
    }
  }
  if (['BEGIN', 'COMMIT', 'ROLLBACK'].includes(kind) || (kind === 'START' && isWord(word(1), 'TRANSACTION'))) {
    throw noSession('A transaction');
  }
  let object = 1;
  while (isWord(word(object), 'OR', 'REPLACE')) object++;
  if ((kind === 'CREATE' || kind === 'DROP' || kind === 'ATTACH') && isWord(word(object), 'TEMPORARY')) {
    throw noSession('A temporary table');
  }
  const intoOutfile = tokens.findIndex(
    (t, i) => t.depth === 0 && isWord(t, 'INTO') && isWord(tokens[i + 1], 'OUTFILE'),
  );
  if (intoOutfile !== -1) throw ChdbHttpError.of('INTO_OUTFILE_NOT_ALLOWED', 'INTO OUTFILE is not allowed');

  // FORMAT clause: the last depth-0 `FORMAT name` followed by nothing or by SETTINGS.
  let formatAt = -1;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i] as Token;
    const name = tokens[i + 1] as Token;
    const after = tokens[i + 2];
    if (
      t.depth === 0 &&
      isWord(t, 'FORMAT') &&
      (name.kind === 'word' || name.kind === 'quoted') &&
      (after === undefined || isWord(after, 'SETTINGS'))
    ) {
      formatAt = i;
    }
  }
  const format = formatAt === -1 ? undefined : identifierText(text, tokens[formatAt + 1] as Token);
  const outputFormat = format ?? opts.defaultFormat ?? 'TabSeparated';
  const settings = opts.settings;
  if (settings.length === 0) return { kind, sql: stmt, action: 'run', outputFormat, paramTypes };

  const outputKind =
    OUTPUT_KINDS.has(kind) &&
    !((kind === 'CREATE' || kind === 'ALTER' || kind === 'DROP') && NON_OUTPUT_OBJECTS.has(word(object)?.upper ?? ''));
  if (outputKind) {
    if (formatAt !== -1 && isWord(tokens[formatAt + 2], 'SETTINGS')) {
      // `… FORMAT f SETTINGS a = 1`: the statement's own settings win over the URL's, as in ClickHouse.
      const own = settingNames(tokens, text, formatAt + 3, tokens.length);
      const list = settingsList(settings, own);
      return { kind, sql: list ? `${stmt}, ${list}` : stmt, action: 'run', outputFormat, paramTypes };
    }
    const tail = formatAt === -1 ? `\nFORMAT ${outputFormat}\nSETTINGS ` : '\nSETTINGS ';
    return { kind, sql: `${stmt}${tail}${settingsList(settings, new Set())}`, action: 'run', outputFormat, paramTypes };
  }
  if (SETTINGS_TAIL_KINDS.has(kind)) {
    const own = tokens.findIndex((t) => t.depth === 0 && isWord(t, 'SETTINGS'));
    if (own !== -1) {
      const list = settingsList(settings, settingNames(tokens, text, own + 1, tokens.length));
      return { kind, sql: list ? `${stmt}, ${list}` : stmt, action: 'run', outputFormat, paramTypes };
    }
    return {
      kind,
      sql: `${stmt}\nSETTINGS ${settingsList(settings, new Set())}`,
      action: 'run',
      outputFormat,
      paramTypes,
    };
  }
  if (opts.readonly) throw ChdbHttpError.of('READONLY', 'Cannot execute query in readonly mode');
  throw ChdbHttpError.of(
    'NOT_IMPLEMENTED',
    `chdb-http cannot apply the request's settings (${settings.map((s) => s.name).join(', ')}) to a ${kind} statement: it takes no SETTINGS clause`,
  );
}

function prepareInsert(text: string, lexer: Lexer, tokens: Token[], opts: PrepareOptions): Prepared {
  // Lex up to the clause that starts the data: FORMAT name (the rest is data), VALUES (the rest is data), or
  // SELECT/WITH (the rest is SQL).
  let settingsAt = -1;
  let clause: Token | undefined;
  let clauseAt = -1;
  for (let t = lexer.next(); t; t = lexer.next()) {
    tokens.push(t);
    if (t.depth !== 0 || t.kind !== 'word') continue;
    if (t.upper === 'SETTINGS' && settingsAt === -1) settingsAt = tokens.length - 1;
    else if (['FORMAT', 'VALUES', 'SELECT', 'WITH'].includes(t.upper)) {
      clause = t;
      clauseAt = tokens.length - 1;
      break;
    } else if (t.upper === 'INFILE') {
      // ClickHouse: an INSERT … FROM INFILE is read by clickhouse-client, a server refuses it.
      throw ChdbHttpError.of('UNKNOWN_TYPE_OF_QUERY', 'Query has infile and was send directly to server');
    }
  }
  let data = '';
  const outputFormat = undefined;
  if (clause?.upper === 'FORMAT') {
    const name = lexer.next();
    if (!name || (name.kind !== 'word' && name.kind !== 'quoted')) {
      throw ChdbHttpError.of('SYNTAX_ERROR', 'Syntax error: expected a format name after FORMAT');
    }
    tokens.push(name);
    const format = identifierText(text, name);
    if (BINARY_INPUT_FORMATS.has(format.toLowerCase())) {
      throw ChdbHttpError.of(
        'NOT_IMPLEMENTED',
        `chdb-http passes insert data to chdb as text; the binary input format ${format} is not served`,
      );
    }
    data = text.slice(name.end);
  } else if (clause?.upper === 'VALUES') {
    data = text.slice(clause.end);
  } else {
    readToSingleStatement(text, lexer, tokens);
  }
  const paramTypes = placeholders(tokens, text);
  const dataClause = clause?.upper === 'FORMAT' || clause?.upper === 'VALUES';
  if (dataClause && data.trim() === '') {
    // ClickHouse answers an INSERT whose body holds no rows with success; chdb would say NO_DATA_TO_INSERT.
    return { kind: 'INSERT', sql: '', action: 'skip', outputFormat, paramTypes };
  }
  const head = dataClause ? text.slice(0, (clause as Token).start) : text.slice(0, (tokens.at(-1) as Token).end);
  const rest = dataClause ? text.slice((clause as Token).start) : '';
  if (opts.settings.length === 0) return { kind: 'INSERT', sql: head + rest, action: 'run', outputFormat, paramTypes };
  // The settings go right before the data clause (INSERT INTO t [(cols)] [SETTINGS …] FORMAT f); inserted after
  // the last token before it, so a comment there cannot swallow them.
  const before = tokens[(clause ? clauseAt : tokens.length) - 1] as Token;
  const own =
    settingsAt === -1 ? undefined : settingNames(tokens, text, settingsAt + 1, clause ? clauseAt : tokens.length);
  const list = settingsList(opts.settings, own ?? new Set());
  if (!list) return { kind: 'INSERT', sql: head + rest, action: 'run', outputFormat, paramTypes };
  const joint = own ? `, ${list}` : ` SETTINGS ${list}`;
  const sql = `${text.slice(0, before.end)}${joint}${text.slice(before.end, head.length)}${rest}`;
  return { kind: 'INSERT', sql, action: 'run', outputFormat, paramTypes };
}
