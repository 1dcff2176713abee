import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Classifiable, parseRuleFile, RuleFileError, RuleSet } from '../src/index.ts';
import { CASES } from './cases.ts';
import { COMPONENT_CASES } from './cases-components.ts';

const rs = RuleSet.load();

function ev(reason: string, type: string, kind: string, component: string, note: string): Classifiable {
  return {
    reason,
    type,
    note,
    reportingController: component,
    regarding: { kind, namespace: 'shop', name: 'x', uid: '', apiVersion: 'v1', resourceVersion: '', fieldPath: '' },
  };
}

test('defaults - at least 300 reasons and a real-message case for every default rule', () => {
  const reasons = new Set(rs.rules.flatMap((r) => [...(r.reason ?? [])]));
  assert.ok(reasons.size >= 300, `${reasons.size} reasons`);
  const covered = new Set([...CASES.map((c) => c[0]), ...COMPONENT_CASES.map((c) => c.rule)]);
  const missing = rs.rules.map((r) => r.spec.id).filter((id) => !covered.has(id));
  assert.deepEqual(missing, []);
});

for (const [id, reason, type, kind, component, message, fields] of CASES) {
  test(`defaults - ${id} classifies ${reason}: ${message.slice(0, 60)}`, () => {
    const c = rs.classify(ev(reason, type, kind, component, message));
    assert.equal(c.ruleId, id);
    assert.equal(c.rulesetVersion, '2026.12.1');
    if (fields) for (const [k, v] of Object.entries(fields)) assert.equal(c.fields[k], v, `field ${k}`);
  });
}

for (const c of COMPONENT_CASES) {
  test(`defaults - ${c.rule} classifies ${c.reason} (${c.component}) as ${c.severity}/${c.category}`, () => {
    assert.ok(c.source.length > 0, 'every case names its source');
    const got = rs.classify(ev(c.reason, c.type, c.kind, c.component, c.message));
    assert.equal(got.ruleId, c.rule);
    assert.equal(got.severity, c.severity);
    assert.equal(got.category, c.category);
    if (c.fields) for (const [k, v] of Object.entries(c.fields)) assert.equal(got.fields[k], v, `field ${k}`);
  });
}

test('defaults - fallback rate over the whole case table is reported (and zero)', () => {
  const all = [
    ...CASES.map(([, reason, type, kind, component, message]) => ev(reason, type, kind, component, message)),
    ...COMPONENT_CASES.map((c) => ev(c.reason, c.type, c.kind, c.component, c.message)),
  ];
  const fallback = all.filter((e) => rs.classify(e).ruleId.startsWith('fallback-')).length;
  const reasons = new Set(rs.rules.flatMap((r) => [...(r.reason ?? [])]));
  console.log(
    `rules ${rs.rules.length}, reasons ${reasons.size}, cases ${all.length}, fallback ${fallback}/${all.length}`,
  );
  assert.equal(fallback, 0);
});

test('policy - one reason, different problems told apart by message', () => {
  const k = (reason: string, type: string, kind: string, component: string, note: string) =>
    rs.classify(ev(reason, type, kind, component, note));
  // Failed: a missing Secret is configuration, a pull failure is image, anything else lifecycle
  assert.equal(k('Failed', 'Warning', 'Pod', 'kubelet', 'Error: secret "x" not found').category, 'config');
  assert.equal(k('Failed', 'Warning', 'Pod', 'kubelet', 'Failed to pull image "a:b": not found').category, 'image');
  assert.equal(
    k('Failed', 'Warning', 'Pod', 'kubelet', 'Error: failed to create containerd task').category,
    'lifecycle',
  );
  // FailedCreate: quota is policy, the rest stays config
  assert.equal(
    k(
      'FailedCreate',
      'Warning',
      'ReplicaSet',
      'replicaset-controller',
      'Error creating: pods "a" is forbidden: exceeded quota: q, requested: cpu=1',
    ).category,
    'policy',
  );
  assert.equal(
    k(
      'FailedCreate',
      'Warning',
      'ReplicaSet',
      'replicaset-controller',
      'Error creating: Timeout: request did not complete',
    ).category,
    'config',
  );
  // TaintManagerEviction: marking is a warning, cancelling is good news
  assert.equal(
    k('TaintManagerEviction', 'Normal', 'Pod', 'taint-eviction-controller', 'Marking for deletion Pod shop/a').severity,
    'warning',
  );
  assert.equal(
    k('TaintManagerEviction', 'Normal', 'Pod', 'taint-eviction-controller', 'Cancelling deletion of Pod shop/a')
      .severity,
    'info',
  );
  // impact, not type: a Normal NodeNotReady is critical, a Warning conflict is noise
  assert.equal(
    k('NodeNotReady', 'Normal', 'Node', 'node-controller', 'Node n status is now: NodeNotReady').severity,
    'critical',
  );
  const conflict = k(
    'FailedUpdate',
    'Warning',
    'CronJob',
    'cronjob-controller',
    'Operation cannot be fulfilled on cronjobs.batch "r": the object has been modified; please apply your changes to the latest version and try again',
  );
  assert.equal(conflict.severity, 'info');
  assert.equal(conflict.incident, 'none');
  // Evicted: kubelet's is a resources problem, Karpenter's a planned consolidation
  assert.equal(
    k('Evicted', 'Warning', 'Pod', 'kubelet', 'The node was low on resource: memory.').category,
    'resources',
  );
  assert.equal(k('Evicted', 'Normal', 'Pod', 'karpenter', 'Evicted pod: Underutilized').severity, 'info');
});

test('defaults - the combined-from-similar prefix does not change the rule', () => {
  const c = rs.classify(
    ev(
      'Unhealthy',
      'Warning',
      'Pod',
      'kubelet',
      '(combined from similar events): Liveness probe failed: HTTP probe failed with statuscode: 503',
    ),
  );
  assert.equal(c.ruleId, 'kubelet-unhealthy-liveness');
  assert.equal(c.fields.probe, 'Liveness');
});

test('defaults - unknown reasons fall back by type', () => {
  assert.equal(rs.classify(ev('Whatever', 'Warning', 'Pod', 'x', 'm')).ruleId, 'fallback-warning');
  assert.equal(rs.classify(ev('Whatever', 'Normal', 'Pod', 'x', 'm')).severity, 'info');
});

test('user rules - override by id, add with priority, label match, version joined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kec-rules-'));
  try {
    const f = join(dir, 'mine.yaml');
    writeFileSync(
      f,
      [
        'apiVersion: kec.rules/v1',
        'version: team-3',
        'rules:',
        '  - id: kubelet-backoff-restart',
        '    match: { reason: BackOff }',
        '    severity: critical',
        '    category: health',
        '    actionable: true',
        '  - id: payments-any-warning',
        '    priority: 500',
        '    match: { type: Warning, labels: { team: payments } }',
        '    severity: critical',
        '    category: other',
        '    actionable: true',
      ].join('\n'),
    );
    const mine = RuleSet.load([f]);
    assert.equal(mine.version, '2026.12.1+team-3');
    const backoff = ev('BackOff', 'Warning', 'Pod', 'kubelet', 'Back-off restarting failed container a in pod p_ns(u)');
    assert.equal(mine.classify(backoff).severity, 'critical');
    assert.equal(mine.classify(backoff, { team: 'payments' }).ruleId, 'payments-any-warning');
    assert.equal(
      mine.classify(ev('Pulled', 'Normal', 'Pod', 'kubelet', 'x'), { team: 'payments' }).ruleId,
      'kubelet-pulled',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check - errors name file:line, rule id and JSON path', () => {
  const text = [
    'apiVersion: kec.rules/v1',
    'version: "1"',
    'rules:',
    '  - id: ok-rule',
    '    match: { reason: A }',
    '    severity: info',
    '    category: other',
    '    actionable: false',
    '  - id: bad-rule',
    '    match: { reason: B, message: "(unclosed" }',
    '    severity: loud',
    '    category: other',
    '    actionable: false',
  ].join('\n');
  const err = assert.throws(() => parseRuleFile(text, 'r.yaml'), RuleFileError) as unknown;
  void err;
  try {
    parseRuleFile(text, 'r.yaml');
  } catch (e) {
    const p = (e as RuleFileError).problems;
    const sev = p.find((x) => x.path === '/rules/1/severity');
    assert.ok(sev, JSON.stringify(p));
    assert.equal(sev.line, 11);
    assert.equal(sev.ruleId, 'bad-rule');
    assert.match((e as Error).message, /r\.yaml:11: rule bad-rule \/rules\/1\/severity/);
  }
  // regex errors come after schema validation passes
  try {
    parseRuleFile(text.replace('severity: loud', 'severity: info'), 'r.yaml');
    assert.fail('should throw');
  } catch (e) {
    const p = (e as RuleFileError).problems[0];
    assert.equal(p?.path, '/rules/1/match/message');
    assert.equal(p?.line, 10);
    assert.match(p?.message ?? '', /bad regex/);
  }
  try {
    parseRuleFile('apiVersion: kec.rules/v1\nrules: [\n', 'y.yaml');
    assert.fail('should throw');
  } catch (e) {
    assert.match((e as Error).message, /^y\.yaml:\d+: \/: YAML/);
  }
});
