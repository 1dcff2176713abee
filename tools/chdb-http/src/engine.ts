// The one chdb Session of the process, and the current database.
//
// ClickHouse gives every HTTP request its own current database (`database=`); chdb has one per session, changed
// by `USE`. A gate keeps requests of one database running together and switches the session's database only
// when nothing is running; requests for another database queue (in arrival order, so none starves).
// Only the async chdb calls are used (queryAsync/queryBindAsync run on the libuv pool). Note that chdb runs the
// calls of one connection one at a time; parameter-bound calls are serialized process-wide by chdb itself.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ChdbResult, drainPending, Session } from 'chdb';
import { ChdbHttpError, fromEngineError } from './errors.ts';
import { quoteIdentifier } from './sql.ts';

export interface EngineResult {
  bytes: Buffer;
  rowsRead: number;
  bytesRead: number;
  /** Seconds, as chdb reports it. */
  elapsed: number;
}

interface Waiter {
  database: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Engine {
  readonly dataDir: string;
  /** The engine's version, e.g. 26.7.2.1 (for error messages). */
  version = '';
  /** The engine's time zone (X-ClickHouse-Timezone). */
  timezone = 'UTC';
  /** The engine's default of `enable_http_compression`. */
  httpCompressionByDefault = false;
  #session: Session | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #database = 'default';
  #active = 0;
  #switching = false;
  #queue: Waiter[] = [];
  #inflight = new Set<Promise<unknown>>();

  private constructor(session: Session, dataDir: string) {
    this.#session = session;
    this.dataDir = dataDir;
  }

  /**
   * Opens the data directory (created when missing) with the engine's server settings. Rejects when another process
   * holds it.
   */
  static async open(dataDir: string, settings: Readonly<Record<string, string | number>> = {}): Promise<Engine> {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    let session: Session;
    try {
      session = new Session(dir, { connectionArgs: Object.entries(settings).map(([k, v]) => `--${k}=${v}`) });
    } catch (err) {
      throw fromEngineError(err);
    }
    const engine = new Engine(session, dir);
    try {
      const r = await session.queryAsync(
        "SELECT version() AS v, timezone() AS tz, (SELECT value FROM system.settings WHERE name = 'enable_http_compression') AS c, currentDatabase() AS db",
        { format: 'JSONEachRow' },
      );
      const row = JSON.parse(r.text()) as { v: string; tz: string; c: string | null; db: string };
      engine.version = row.v;
      engine.timezone = row.tz;
      engine.httpCompressionByDefault = row.c === '1';
      engine.#database = row.db;
    } catch (err) {
      session.close();
      await drainPending();
      throw fromEngineError(err);
    }
    return engine;
  }

  /** Runs one statement with `database` as the current database. Rejects with ChdbHttpError. */
  run(
    database: string,
    sql: string,
    params: Record<string, string | null> | undefined,
    format: string,
  ): Promise<EngineResult> {
    const p = this.#run(database, sql, params, format);
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async #run(
    database: string,
    sql: string,
    params: Record<string, string | null> | undefined,
    format: string,
  ): Promise<EngineResult> {
    await this.#enter(database);
    try {
      const s = this.#sessionOrThrow();
      let r: ChdbResult;
      try {
        r = params ? await s.queryBindAsync(sql, params, { format }) : await s.queryAsync(sql, { format });
      } catch (err) {
        throw fromEngineError(err);
      }
      const b = r.bytes();
      return {
        bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        rowsRead: r.rowsRead,
        bytesRead: r.bytesRead,
        elapsed: r.elapsed,
      };
    } finally {
      this.#leave();
    }
  }

  #sessionOrThrow(): Session {
    if (!this.#session) throw ChdbHttpError.of('NETWORK_ERROR', 'chdb-http is shutting down');
    return this.#session;
  }

  #enter(database: string): Promise<void> {
    if (!this.#session || this.#closing)
      return Promise.reject(ChdbHttpError.of('NETWORK_ERROR', 'chdb-http is shutting down'));
    if (this.#queue.length === 0 && !this.#switching && database === this.#database) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ database, resolve, reject });
      this.#pump();
    });
  }

  #leave(): void {
    this.#active--;
    this.#pump();
  }

  /** When nothing runs: switch to the first waiter's database and admit every waiter of that database. */
  #pump(): void {
    if (this.#active > 0 || this.#switching) return;
    const first = this.#queue[0];
    if (!first) return;
    if (first.database === this.#database) {
      const admitted = this.#queue.filter((w) => w.database === this.#database);
      this.#queue = this.#queue.filter((w) => w.database !== this.#database);
      this.#active += admitted.length;
      for (const w of admitted) w.resolve();
      return;
    }
    const target = first.database;
    this.#switching = true;
    const session = this.#session;
    const use = session
      ? session.queryAsync(`USE ${quoteIdentifier(target)}`, { format: 'TabSeparated' })
      : Promise.reject(ChdbHttpError.of('NETWORK_ERROR', 'chdb-http is shutting down'));
    use.then(
      () => {
        this.#database = target;
        this.#switching = false;
        this.#pump();
      },
      (err: unknown) => {
        // e.g. UNKNOWN_DATABASE: every request for that database fails the same way; the others go on.
        const e = fromEngineError(err);
        const failed = this.#queue.filter((w) => w.database === target);
        this.#queue = this.#queue.filter((w) => w.database !== target);
        this.#switching = false;
        for (const w of failed) w.reject(e);
        this.#pump();
      },
    );
  }

  /** Waits for running statements, then closes the session and waits until chdb has released it. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    const s = this.#session;
    this.#session = undefined;
    for (const w of this.#queue.splice(0)) w.reject(ChdbHttpError.of('NETWORK_ERROR', 'chdb-http is shutting down'));
    s?.close();
    await drainPending();
  }
}
