// `kec reclassify`: the current rule set and fingerprint re-applied to stored history, in batches in the events
// table's sort order, on either store backend through the same SQL.
//
// How the store takes the rewrite without duplicates:
// - events (ReplacingMergeTree(version)): the rewritten row is inserted with the same sort key and the same version
//   (the observation's resourceVersion). Between equal versions the last inserted row wins (merges and FINAL), and
//   a newer observation the writer stores meanwhile has a higher version and wins over the rewrite.
// - occurrences (no version column) and the per-minute rollup (argMax by resource_version, where a re-inserted
//   occurrence would tie with the old one): updated in place by a synchronous mutation, and the rollup minutes of
//   the changed events deleted and recomputed from their occurrences (min/max are idempotent, so recomputing is exact).
// Order per batch: occurrences and rollup, then events, then the checkpoint. A kill between two steps leaves the
// events row still old, so the resumed run finds it changed again and redoes the (idempotent) steps.
// Incidents and patterns are not rewritten: incident membership was decided live within its time window, and its
// stored title/severity describe what was known then; the report names the incidents whose members changed.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { classificationChanges, reclassifyStored, type StoredEvent } from '@kec/correlator';
import type { RuleSet } from '@kec/rules';
import { rollupSelect, type Store } from '@kec/store';

type Cursor = [cluster: string, namespace: string, kind: string, name: string, uid: string];

interface EventRecord extends StoredEvent, Record<string, unknown> {
  cluster: string;
  namespace: string;
  uid: string;
  version: string;
  severity: string;
  category: string;
  actionable: boolean;
  rule_id: string;
  ruleset_version: string;
  fields: Record<string, string>;
  fingerprint_id: string;
  fingerprint_template: string;
  incident_id: string;
}

export interface RuleChange {
  /** Events now classified by this rule whose classification changed. */
  events: number;
  /** The rules that classified them before. */
  from: Record<string, number>;
  /** How many changed in each column (severity, category, actionable, rule, fields, fingerprint). */
  columns: Record<string, number>;
}

export interface ReclassifyTotals {
  scanned: number;
  /** Events whose classification or fingerprint changed. */
  changed: number;
  /** Events only stamped with the current ruleset_version (nothing else changed). */
  restamped: number;
  byRule: Record<string, RuleChange>;
  /** Incidents that have at least one changed member (their stored rows are left as they were). */
  incidents: number;
}

interface Checkpoint {
  schema: 'kec.reclassify-checkpoint/v1';
  runId: string;
  database: string;
  rules: string;
  sinceMs: number;
  untilMs: number;
  total: number;
  batch: number;
  cursor: Cursor | null;
  /** The batch being written when the run stopped: its counts, taken before any of its writes. */
  pending: { to: Cursor; totals: ReclassifyTotals; incidents: string[] } | null;
  totals: ReclassifyTotals;
  incidents: string[];
  done: boolean;
}

export interface Progress {
  scanned: number;
  total: number;
  changed: number;
  restamped: number;
}

export interface ReclassifyOptions {
  store: Store;
  rules: RuleSet;
  sinceMs: number;
  /** The window's end (default now); a resumed run keeps the window it started with. */
  untilMs?: number;
  dryRun?: boolean;
  /** Events per batch (default 1000). */
  batchSize?: number;
  /** Where progress is kept between runs; none in a dry run. */
  checkpointFile?: string;
  onProgress?: (p: Progress) => void;
  /** Called after each batch is written and checkpointed (tests stop a run here). */
  afterBatch?: (batch: number) => void | Promise<void>;
}

export interface ReclassifyResult {
  totals: ReclassifyTotals;
  /** The run continued a checkpoint left by an interrupted one. */
  resumed: boolean;
  dryRun: boolean;
  rulesetVersion: string;
  sinceMs: number;
  untilMs: number;
}

const emptyTotals = (): ReclassifyTotals => ({ scanned: 0, changed: 0, restamped: 0, byRule: {}, incidents: 0 });

function addTotals(a: ReclassifyTotals, b: ReclassifyTotals): void {
  a.scanned += b.scanned;
  a.changed += b.changed;
  a.restamped += b.restamped;
  for (const [rule, c] of Object.entries(b.byRule)) {
    const t = a.byRule[rule] ?? { events: 0, from: {}, columns: {} };
    a.byRule[rule] = t;
    t.events += c.events;
    for (const [k, n] of Object.entries(c.from)) t.from[k] = (t.from[k] ?? 0) + n;
    for (const [k, n] of Object.entries(c.columns)) t.columns[k] = (t.columns[k] ?? 0) + n;
  }
}

/** A digest of the rule set's content, so a checkpoint is resumed only with the rules it was started with. */
export function rulesDigest(rules: RuleSet): string {
  return `${rules.version}:${createHash('sha256')
    .update(JSON.stringify(rules.rules.map((r) => r.spec)))
    .digest('hex')
    .slice(0, 16)}`;
}

function readCheckpoint(file: string): Checkpoint | null {
  if (!existsSync(file)) return null;
  const cp = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  if (cp.schema !== 'kec.reclassify-checkpoint/v1') throw new Error(`${file} is not a reclassify checkpoint`);
  return cp;
}

function writeCheckpoint(file: string, cp: Checkpoint): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(cp));
  renameSync(tmp, file);
}

const micros = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');

export async function reclassify(o: ReclassifyOptions): Promise<ReclassifyResult> {
  const db = o.store.database;
  const digest = rulesDigest(o.rules);
  const batchSize = o.batchSize ?? 1000;
  const dry = o.dryRun ?? false;
  let cp: Checkpoint | null = null;
  let resumed = false;
  if (!dry && o.checkpointFile) {
    const old = readCheckpoint(o.checkpointFile);
    if (old && !old.done && old.rules === digest && old.database === db) {
      cp = old;
      resumed = true;
    }
  }
  const untilMs = cp?.untilMs ?? o.untilMs ?? Date.now();
  const sinceMs = cp?.sinceMs ?? o.sinceMs;
  const window = { since: micros(sinceMs), until: micros(untilMs) };
  if (!cp) {
    const [c] = await o.store.query<{ n: number }>(
      `SELECT count() AS n FROM ${db}.events FINAL
       WHERE last_timestamp >= {since:DateTime64(6, 'UTC')} AND last_timestamp < {until:DateTime64(6, 'UTC')}`,
      window,
    );
    cp = {
      schema: 'kec.reclassify-checkpoint/v1',
      runId: randomUUID(),
      database: db,
      rules: digest,
      sinceMs,
      untilMs,
      total: Number(c?.n ?? 0),
      batch: 0,
      cursor: null,
      pending: null,
      totals: emptyTotals(),
      incidents: [],
      done: false,
    };
  }
  const state = cp;
  const incidents = new Set(state.incidents);
  const save = () => {
    if (!dry && o.checkpointFile) writeCheckpoint(o.checkpointFile, { ...state, incidents: [...incidents] });
  };

  for (;;) {
    const c = state.cursor;
    const rows = await o.store.query<EventRecord>(
      `SELECT * REPLACE (toString(version) AS version) FROM ${db}.events FINAL
       WHERE last_timestamp >= {since:DateTime64(6, 'UTC')} AND last_timestamp < {until:DateTime64(6, 'UTC')}
         ${c ? 'AND (cluster, namespace, regarding_kind, regarding_name, uid) > ({c:String}, {n:String}, {k:String}, {o:String}, {u:String})' : ''}
       ORDER BY cluster, namespace, regarding_kind, regarding_name, uid
       LIMIT {limit:UInt32}`,
      { ...window, limit: batchSize, ...(c ? { c: c[0], n: c[1], k: c[2], o: c[3], u: c[4] } : {}) },
    );
    if (rows.length === 0) break;
    const last = rows[rows.length - 1] as EventRecord;
    const to: Cursor = [last.cluster, last.namespace, last.regarding_kind, last.regarding_name, last.uid];

    const batch = emptyTotals();
    const batchIncidents: string[] = [];
    const rewritten: EventRecord[] = [];
    const moved: EventRecord[] = []; // severity, category or fingerprint changed: occurrences and rollup follow
    for (const row of rows) {
      batch.scanned++;
      const now = reclassifyStored(row, o.rules);
      const changes = classificationChanges(row as Parameters<typeof classificationChanges>[0], now);
      if (changes.length === 0 && row.ruleset_version === now.ruleset_version) continue;
      const next = { ...row, ...now };
      rewritten.push(next);
      if (changes.length === 0) {
        batch.restamped++;
        continue;
      }
      batch.changed++;
      const r = batch.byRule[now.rule_id] ?? { events: 0, from: {}, columns: {} };
      batch.byRule[now.rule_id] = r;
      r.events++;
      r.from[row.rule_id || '(none)'] = (r.from[row.rule_id || '(none)'] ?? 0) + 1;
      for (const k of changes) r.columns[k] = (r.columns[k] ?? 0) + 1;
      if (row.incident_id) batchIncidents.push(row.incident_id);
      if (changes.includes('severity') || changes.includes('category') || changes.includes('fingerprint'))
        moved.push(next);
    }

    // A resumed batch counts what it found before its first write, not what is left of it.
    const counted = state.pending && sameCursor(state.pending.to, to) ? state.pending : null;
    if (!dry && rewritten.length > 0) {
      if (!counted) {
        state.pending = { to, totals: batch, incidents: batchIncidents };
        save();
      }
      await rewriteOccurrences(o.store, moved);
      await o.store.insert('events', rewritten, { token: `reclassify:${state.runId}:${state.batch}` });
    }
    addTotals(state.totals, counted ? counted.totals : batch);
    for (const id of counted ? counted.incidents : batchIncidents) incidents.add(id);
    state.pending = null;
    state.cursor = to;
    state.batch++;
    state.totals.incidents = incidents.size;
    save();
    o.onProgress?.({
      scanned: state.totals.scanned,
      total: state.total,
      changed: state.totals.changed,
      restamped: state.totals.restamped,
    });
    await o.afterBatch?.(state.batch);
    if (rows.length < batchSize) break;
  }
  state.done = true;
  state.totals.incidents = incidents.size;
  save();
  if (!dry && o.checkpointFile) rmSync(o.checkpointFile, { force: true });
  return { totals: state.totals, resumed, dryRun: dry, rulesetVersion: o.rules.version, sinceMs, untilMs };
}

const sameCursor = (a: Cursor, b: Cursor) => a.every((x, i) => x === b[i]);

/** Occurrences take the new severity/category/fingerprint; the rollup minutes of those events are recomputed. */
async function rewriteOccurrences(store: Store, moved: readonly EventRecord[]): Promise<void> {
  if (moved.length === 0) return;
  const db = store.database;
  const key = "concat(cluster, '/', uid)";
  const p = {
    keys: moved.map((r) => `${r.cluster}/${r.uid}`),
    sev: moved.map((r) => r.severity),
    cat: moved.map((r) => r.category),
    fp: moved.map((r) => r.fingerprint_id),
  };
  await store.command(
    `ALTER TABLE ${db}.occurrences UPDATE
       severity = transform(${key}, {keys:Array(String)}, {sev:Array(String)}, toString(severity)),
       category = transform(${key}, {keys:Array(String)}, {cat:Array(String)}, toString(category)),
       fingerprint_id = transform(${key}, {keys:Array(String)}, {fp:Array(String)}, toString(fingerprint_id))
     WHERE ${key} IN {keys:Array(String)}
     SETTINGS mutations_sync = 2`,
    p,
  );
  // Only the minutes that still have occurrences are deleted (the rollup outlives the occurrences' retention).
  await store.command(
    `ALTER TABLE ${db}.events_per_minute_state DELETE
     WHERE (cluster, uid_hash, minute) IN (
       SELECT cluster, sipHash64(cluster, uid), toStartOfMinute(time) FROM ${db}.occurrences
       WHERE ${key} IN {keys:Array(String)} AND occurrences > 0)
     SETTINGS mutations_sync = 2`,
    { keys: p.keys },
  );
  // The materialized view's own SELECT over the (deduplicated) occurrences of these events.
  await store.command(
    `INSERT INTO ${db}.events_per_minute_state SETTINGS insert_deduplicate = 0
     ${rollupSelect(`${db}.occurrences FINAL`, `${key} IN {keys:Array(String)} AND occurrences > 0`)}`,
    { keys: p.keys },
  );
}

/** `30d`, `12h`, `90m`, or an RFC 3339 instant: the start of the window. */
export function parseSince(s: string, nowMs: number): number {
  const m = /^(\d+)([smhdw])$/.exec(s.trim());
  if (m) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return nowMs - Number(m[1]) * unit;
  }
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`--since ${s}: expected a duration (30d, 12h, 90m) or an RFC 3339 time`);
  return t;
}

/** What the command prints: totals, then per rule what changed and where from. */
export function formatReclassify(r: ReclassifyResult): string {
  const t = r.totals;
  const lines = [
    `${r.dryRun ? 'dry run (nothing written): ' : ''}${t.scanned} events from ${new Date(r.sinceMs).toISOString()} to ${new Date(r.untilMs).toISOString()} re-classified with rules ${r.rulesetVersion}${r.resumed ? ' (resumed)' : ''}`,
    `${t.changed} changed, ${t.restamped} only re-stamped with the rule set version, ${t.scanned - t.changed - t.restamped} unchanged; ${t.incidents} incidents have changed members (kept as they were)`,
  ];
  const rules = Object.entries(t.byRule).sort((a, b) => b[1].events - a[1].events || a[0].localeCompare(b[0]));
  if (rules.length) lines.push('changed by rule (now <- before: columns):');
  for (const [rule, c] of rules) {
    const from = Object.entries(c.from)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const cols = Object.entries(c.columns)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${rule}: ${c.events} <- ${from}: ${cols}`);
  }
  return `${lines.join('\n')}\n`;
}
