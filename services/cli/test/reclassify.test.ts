// kec reclassify on a real embedded store (chdb) filled with rows classified by the previous default rule set
// (2026.11.1, fixtures/rules-2026.11.1.yaml) and old fingerprints: changes by rule, rerun = no changes, dry run
// writes nothing, an interrupted run (after a batch, and between the occurrences and the events write) resumes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reclassifyStored } from '@kec/correlator';
import { RuleSet } from '@kec/rules';
import { migrate, openStore, type Store } from '@kec/store';
import { eventBatchRows, type KecEventsPayload } from '@kec/writer';
import { COMPONENT_CASES } from '../../../libs/rules/test/cases-components.ts';
import { runCli } from '../src/index.ts';
import { type ReclassifyResult, reclassify } from '../src/reclassify.ts';

const OLD_RULES = join(import.meta.dirname, 'fixtures', 'rules-2026.11.1.yaml');
const NOW = Date.now();
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** Three observations per case (count 1, 2, 5), classified and fingerprinted as the 2026.11.1 correlator did. */
function history(old: RuleSet): KecEventsPayload[] {
  const out: KecEventsPayload[] = [];
  COMPONENT_CASES.forEach((c, i) => {
    const ns = c.kind === 'Node' ? '' : `ns-${i % 7}`;
    const object = c.kind === 'Node' ? `node-${i}` : `obj-${i}`;
    const first = NOW - (2 * 24 * 60 + i) * MIN;
    for (const [step, count] of [1, 2, 5].entries()) {
      const at = first + step * 10 * MIN;
      const p: KecEventsPayload = {
        schema: 'kec.events/v1',
        cluster: 'c1',
        observedAt: new Date(at + 1000).toISOString().replace('Z', '000Z'),
        sourceApi: 'core/v1',
        watchType: count === 1 ? 'ADDED' : 'MODIFIED',
        resourceVersion: String(1000 + i * 10 + step),
        uid: `uid-${String(i).padStart(4, '0')}`,
        name: `${object}.${i.toString(16)}`,
        namespace: ns || 'default',
        creationTimestamp: iso(first),
        labels: {},
        annotations: {},
        eventTime: null,
        series: null,
        reportingController: c.component,
        reportingInstance: 'node-1',
        action: '',
        reason: c.reason,
        regarding: {
          kind: c.kind,
          namespace: ns,
          name: object,
          uid: `o-${i}`,
          apiVersion: 'v1',
          resourceVersion: '1',
          fieldPath: '',
        },
        related: null,
        note: c.message,
        type: c.type,
        deprecatedSource: { component: c.component, host: 'node-1' },
        deprecatedFirstTimestamp: iso(first),
        deprecatedLastTimestamp: iso(at),
        deprecatedCount: count,
        count,
        firstTimestamp: iso(first),
        lastTimestamp: iso(at),
        combined: false,
        enrichment: {
          status: 'hit',
          object: { labels: {}, annotations: {}, deleted: false },
          workload: null,
          node: { name: 'node-1', zone: 'z1' },
          namespaceLabels: {},
        },
        classification: null,
        fingerprint: null,
        occurrences: step === 0 ? 1 : count - ([1, 2, 5][step - 1] ?? 0),
        incidentId: i % 3 === 0 ? `inc-${i}` : null,
      };
      const o = reclassifyStored(
        {
          reason: c.reason,
          type: c.type,
          note: c.message,
          reporting_controller: c.component,
          deprecated_source_component: c.component,
          deprecated_source_host: 'node-1',
          regarding_kind: c.kind,
          regarding_namespace: ns,
          regarding_name: object,
          regarding_field_path: '',
          object_labels: {},
          workload_name: '',
          node_name: 'node-1',
        },
        old,
      );
      p.classification = {
        severity: o.severity,
        category: o.category,
        actionable: o.actionable,
        ruleId: o.rule_id,
        rulesetVersion: o.ruleset_version,
        fields: o.fields,
      };
      // the fingerprint of an older release kept the object's name in the template
      p.fingerprint =
        i % 4 === 0
          ? { id: `old${i}`, template: c.message }
          : { id: o.fingerprint_id, template: o.fingerprint_template };
      out.push(p);
    }
  });
  return out;
}

/** What reclassification must find: per current rule, the old rules of the cases whose classification changed. */
function expected(old: RuleSet, now: RuleSet, payloads: KecEventsPayload[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const latest = eventBatchRows(payloads).events;
  for (const e of latest) {
    const was = reclassifyStored({ ...e, object_labels: {} }, old);
    const is = reclassifyStored({ ...e, object_labels: {} }, now);
    const fpOld = e.fingerprint_id;
    const same =
      was.severity === is.severity &&
      was.category === is.category &&
      was.actionable === is.actionable &&
      was.rule_id === is.rule_id &&
      JSON.stringify(was.fields) === JSON.stringify(is.fields) &&
      fpOld === is.fingerprint_id &&
      e.fingerprint_template === is.fingerprint_template;
    if (same) continue;
    const m = out.get(is.rule_id) ?? new Map<string, number>();
    out.set(is.rule_id, m);
    m.set(was.rule_id, (m.get(was.rule_id) ?? 0) + 1);
  }
  return out;
}

/** Everything reclassification may touch, in a stable text: equal before and after a dry run. */
async function snapshot(store: Store): Promise<string> {
  const parts = await Promise.all([
    store.query(
      'SELECT uid, version, severity, category, rule_id, ruleset_version, fields, fingerprint_id FROM kec.events FINAL ORDER BY uid',
    ),
    store.query(
      'SELECT uid, resource_version, severity, category, fingerprint_id, occurrences FROM kec.occurrences FINAL ORDER BY uid, resource_version',
    ),
    store.query(
      'SELECT minute, uid_hash, occurrences, severity, category FROM kec.events_per_minute ORDER BY minute, uid_hash',
    ),
    store.query('SELECT count() AS n FROM kec.events'),
  ]);
  return JSON.stringify(parts);
}

const byRule = (r: ReclassifyResult) =>
  new Map(Object.entries(r.totals.byRule).map(([rule, c]) => [rule, new Map(Object.entries(c.from))] as const));

describe('kec reclassify (embedded store)', () => {
  let dir: string;
  let store: Store;
  let old: RuleSet;
  let now: RuleSet;
  let payloads: KecEventsPayload[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kec-reclassify-'));
    store = await openStore({ dataDir: dir });
    await migrate(store);
    old = RuleSet.load([OLD_RULES], { defaults: false });
    now = RuleSet.load();
    payloads = history(old);
    // as the writer stores them: one batch per observation step, so each event has three stored versions
    for (let step = 0; step < 3; step++) {
      const rows = eventBatchRows(payloads.filter((_, j) => j % 3 === step));
      await store.insert('occurrences', rows.occurrences);
      await store.insert('events', rows.events);
    }
  });

  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the fixture is an older rule set that classifies differently', () => {
    assert.equal(old.version, '2026.11.1');
    assert.notEqual(now.version, old.version);
    const want = expected(old, now, payloads);
    const changed = [...want.values()].reduce((a, m) => a + [...m.values()].reduce((x, y) => x + y, 0), 0);
    assert.ok(changed >= COMPONENT_CASES.length / 2, `${changed} of ${COMPONENT_CASES.length} cases change`);
  });

  let full: ReclassifyResult;
  test('dry run reports the changes by rule and writes nothing', async () => {
    const before = await snapshot(store);
    const cp = join(dir, 'dry.checkpoint');
    full = await reclassify({
      store,
      rules: now,
      sinceMs: NOW - 30 * 24 * 60 * MIN,
      dryRun: true,
      batchSize: 50,
      checkpointFile: cp,
    });
    assert.equal(await snapshot(store), before);
    assert.equal(existsSync(cp), false);
    assert.equal(full.totals.scanned, COMPONENT_CASES.length);
    assert.deepEqual(byRule(full), expected(old, now, payloads));
    assert.equal(full.totals.changed + full.totals.restamped, COMPONENT_CASES.length);
    // the incidents of changed members are named, not rewritten
    assert.ok(full.totals.incidents > 0);
  });

  test('a run stopped after a batch, and one stopped between the occurrences and the events write, resume', async () => {
    const cp = join(dir, 'run.checkpoint');
    const base = { store, rules: now, sinceMs: NOW - 30 * 24 * 60 * MIN, batchSize: 20, checkpointFile: cp };
    await assert.rejects(
      reclassify({
        ...base,
        afterBatch: (n) => {
          if (n === 2) throw new Error('killed');
        },
      }),
      /killed/,
    );
    assert.ok(existsSync(cp));
    // the next run dies inside its first batch: occurrences and rollup rewritten, the events insert refused
    const failing: Store = {
      backend: store.backend,
      database: store.database,
      query: (sql, params) => store.query(sql, params),
      command: (sql, params) => store.command(sql, params),
      insert: async (table, rows, o) => {
        if (table === 'events') throw new Error('killed before the events write');
        return store.insert(table, rows, o);
      },
      ping: () => store.ping(),
      close: () => store.close(),
    };
    await assert.rejects(reclassify({ ...base, store: failing }), /killed before the events write/);
    const done = await reclassify(base);
    assert.equal(done.resumed, true);
    assert.equal(existsSync(cp), false);
    // the same counts as one uninterrupted pass (the dry run's)
    assert.deepEqual(done.totals, full.totals);
  });

  test('the store holds the current classification, once per event, occurrences and rollup follow', async () => {
    const rows = await store.query<{ n: number; rs: string }>(
      'SELECT count() AS n, any(ruleset_version) AS rs, uniqExact(ruleset_version) AS v FROM kec.events FINAL',
    );
    assert.equal(rows[0]?.n, COMPONENT_CASES.length);
    assert.equal(rows[0]?.rs, now.version);
    await store.command('OPTIMIZE TABLE kec.events FINAL');
    await store.command('OPTIMIZE TABLE kec.occurrences FINAL');
    const [{ n } = { n: -1 }] = await store.query<{ n: number }>('SELECT count() AS n FROM kec.events');
    assert.equal(n, COMPONENT_CASES.length, 'no duplicate event rows after merging');
    const [{ o } = { o: -1 }] = await store.query<{ o: number }>('SELECT count() AS o FROM kec.occurrences');
    assert.equal(o, payloads.length, 'no duplicate occurrence rows');
    const bad = await store.query(
      `SELECT o.uid, o.severity, e.severity FROM kec.occurrences AS o
       INNER JOIN (SELECT uid, severity, category, fingerprint_id FROM kec.events FINAL) AS e ON e.uid = o.uid
       WHERE o.severity != e.severity OR o.category != e.category OR o.fingerprint_id != e.fingerprint_id`,
    );
    assert.deepEqual(bad, []);
    for (const c of COMPONENT_CASES.slice(0, 40)) {
      const i = COMPONENT_CASES.indexOf(c);
      const [r] = await store.query<{ rule_id: string; severity: string; category: string }>(
        'SELECT rule_id, severity, category FROM kec.events FINAL WHERE uid = {u:String}',
        { u: `uid-${String(i).padStart(4, '0')}` },
      );
      assert.deepEqual(r, { rule_id: c.rule, severity: c.severity, category: c.category }, c.message);
    }
    // the rollup: the same occurrences per minute, now under the current severity/category
    const roll = await store.query<{ s: number; bad: number }>(
      `SELECT sum(r.occurrences) AS s, countIf(r.severity != e.severity OR r.category != e.category) AS bad
       FROM kec.events_per_minute AS r
       INNER JOIN (SELECT sipHash64(cluster, uid) AS h, severity, category FROM kec.events FINAL) AS e ON e.h = r.uid_hash`,
    );
    assert.equal(roll[0]?.bad, 0);
    assert.equal(roll[0]?.s, COMPONENT_CASES.length * 5);
  });

  test('a rerun changes nothing', async () => {
    const before = await snapshot(store);
    const again = await reclassify({ store, rules: now, sinceMs: NOW - 30 * 24 * 60 * MIN, batchSize: 50 });
    assert.equal(again.totals.scanned, COMPONENT_CASES.length);
    assert.equal(again.totals.changed, 0);
    assert.equal(again.totals.restamped, 0);
    assert.equal(await snapshot(store), before);
  });

  test('kec reclassify prints the changes by rule (the old rules back, as a user rule file, dry run)', async () => {
    await store.close();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      ['node', 'kec', 'reclassify', '--since', '30d', '--rules', OLD_RULES, '--dry-run', '--batch', '100'],
      { env: { KEC_DATA_DIR: dir }, stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
    );
    store = await openStore({ dataDir: dir });
    assert.equal(code, 0, err.join(''));
    const text = out.join('');
    assert.match(text, /^dry run \(nothing written\): \d+ events from /);
    assert.match(text, /changed by rule \(now <- before: columns\):/);
    assert.match(text, / <- [a-z-]+ \d+/);
    assert.match(err.join(''), /reclassify: \d+\/\d+ events \(100%\)/);
  });

  test('kec reclassify killed (SIGKILL) mid-way resumes from its checkpoint on the next run', async () => {
    await store.close();
    const kec = join(import.meta.dirname, '..', 'bin', 'kec');
    const args = ['reclassify', '--since', '30d', '--rules', OLD_RULES, '--batch', '5'];
    const env = { ...process.env, KEC_DATA_DIR: dir, KEC_CORRELATOR_RULES_FILES: '' };
    const run = (extra: string[], killAt?: RegExp) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        const p = spawn(kec, [...args, ...extra], { env });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => {
          out += d;
        });
        p.stderr.on('data', (d) => {
          err += d;
          if (killAt?.test(err)) p.kill('SIGKILL');
        });
        p.on('error', reject);
        p.on('close', (code) => resolve({ code, out, err }));
      });
    const dry = await run(['--dry-run']);
    assert.equal(dry.code, 0, dry.err);
    const changedLine = /\n(\d+ changed, .*)\n/.exec(dry.out)?.[1];
    assert.ok(changedLine && !changedLine.startsWith('0 changed'), dry.out);
    const killed = await run([], /reclassify: [2-9]\d\/\d+ events/);
    assert.equal(killed.code, null, `killed by the signal: ${killed.out}${killed.err}`);
    assert.ok(existsSync(join(dir, 'reclassify.checkpoint.json')), 'the checkpoint stays for the next run');
    const resumed = await run([]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /re-classified with rules .* \(resumed\)/);
    // the same changes as one uninterrupted pass would make (the dry run's), nothing counted twice
    assert.equal(resumed.out.split('\n').slice(1).join('\n'), dry.out.split('\n').slice(1).join('\n'));
    const again = await run([]);
    assert.match(again.out, /\n0 changed, 0 only re-stamped/);
    store = await openStore({ dataDir: dir });
  });

  test('--since must be a duration or a time', async () => {
    const err: string[] = [];
    const code = await runCli(['node', 'kec', 'reclassify', '--since', 'yesterday'], {
      env: { KEC_DATA_DIR: dir },
      stdout: () => {},
      stderr: (t) => err.push(t),
    });
    assert.equal(code, 2);
    assert.match(err.join(''), /--since yesterday: expected a duration/);
  });
});
