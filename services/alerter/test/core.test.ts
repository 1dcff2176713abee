// The pure core: matchers, rules, state transitions, routing, grouping timers, silences and inhibition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AlertState,
  applyIncident,
  applyOccurrences,
  compileRoute,
  DEFAULT_ROUTE_TIMING,
  type EventRule,
  eventFacts,
  eventGroup,
  eventSubjectCanMatch,
  expire,
  groupAlerts,
  inhibited,
  loadAlertsConfig,
  matchesAll,
  matchPattern,
  type PatternRule,
  parseMatcher,
  parseMatchers,
  planGroup,
  routeAlert,
  type Silence,
  silencedBy,
} from '../src/index.ts';
import { event, incident, pattern } from './helpers.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const ctx = { externalURL: 'https://kec.example' };

function config(yaml: string, defaults = false) {
  return loadAlertsConfig(['t.yaml'], { defaults, texts: { 't.yaml': yaml } });
}

test('matchers - Alertmanager syntax, anchored regexes, missing label equals empty', () => {
  const m = parseMatchers('{severity=~"error|critical", namespace!="kube-system", team=""}');
  assert.equal(m.length, 3);
  assert.ok(matchesAll(m, { severity: 'error', namespace: 'shop' }));
  assert.ok(!matchesAll(m, { severity: 'errors', namespace: 'shop' }), 'regex anchored at both ends');
  assert.ok(!matchesAll(m, { severity: 'error', namespace: 'kube-system' }));
  assert.ok(!matchesAll(m, { severity: 'error', namespace: 'shop', team: 'x' }));
  assert.deepEqual(parseMatcher('a!~"x.*"'), { name: 'a', value: 'x.*', isRegex: true, isEqual: false });
  assert.throws(() => parseMatcher('a=~"("'), /bad regex/);
  assert.throws(() => parseMatcher('no operator'), /bad matcher/);
});

test('rules - an incident alert fires on open, follows escalation, resolves with the incident, ignores old versions', () => {
  const cfg = config(`
apiVersion: kec.alerts/v1
rules:
  - id: inc
    alertname: KecIncident
    source: incidents
    match: { severity: error }
    annotations: { runbook: "https://runbooks/{{ labels.reason }}" }
`);
  const rule = cfg.rules[0]!;
  assert.equal(applyIncident(undefined, rule, incident({ id: 'i1', severity: 'warning' }), T0, ctx), undefined);
  const a1 = applyIncident(undefined, rule, incident({ id: 'i1', version: 2 }), T0, ctx)!;
  assert.equal(a1.status, 'firing');
  assert.equal(a1.seq, 1);
  assert.equal(a1.labels['alertname'], 'KecIncident');
  assert.equal(a1.labels['workload'], 'Deployment/web');
  assert.equal(a1.labels['incident_id'], 'i1');
  assert.equal(a1.annotations['runbook'], 'https://runbooks/BackOff');
  // one affected object a line, as @kec/notify's templates list them
  assert.equal(a1.annotations['affected'], 'Pod/shop/web-7d9f8b6c5d-x2x4z\nPod/shop/web-7d9f8b6c5d-b8k2m');
  const many = Array.from({ length: 12 }, (_, i) => `Pod/shop/p${i}`);
  const big = applyIncident(undefined, rule, incident({ id: 'i9', affected: many }), T0, ctx)!;
  assert.equal(big.annotations['affected']?.split('\n').at(-1), '+2 more');
  assert.equal(a1.generatorURL, 'https://kec.example/incidents/i1');
  assert.equal(a1.startsAt, '2026-12-07T10:00:00.000Z');
  // an older version changes nothing; a newer open one updates counts without a transition
  assert.equal(applyIncident(a1, rule, incident({ id: 'i1', version: 1 }), T0, ctx), undefined);
  const a2 = applyIncident(
    a1,
    rule,
    incident({ id: 'i1', version: 3, occurrenceCount: 500, severity: 'critical' }),
    T0 + 1,
    ctx,
  )!;
  assert.equal(a2.status, 'firing');
  assert.equal(a2.seq, 1);
  assert.equal(a2.counts?.['occurrences'], 500);
  assert.equal(a2.labels['severity'], 'critical');
  const a3 = applyIncident(a2, rule, incident({ id: 'i1', version: 4, state: 'resolved' }), T0 + 2, ctx)!;
  assert.equal(a3.status, 'resolved');
  assert.equal(a3.seq, 2);
  assert.equal(a3.endsAt, new Date(T0 + 2).toISOString());
  // an incident that resolves without ever matching gives no alert
  assert.equal(applyIncident(undefined, rule, incident({ id: 'i2', state: 'resolved' }), T0, ctx), undefined);
});

test('rules - unless excludes node incidents from the default incident rule; node problems have their own', () => {
  const cfg = loadAlertsConfig([]);
  const byId = new Map(cfg.rules.map((r) => [r.spec.id, r]));
  const node = incident({
    id: 'n1',
    severity: 'critical',
    category: 'node',
    rootCause: { eventUid: 'u', reason: 'NodeNotReady', object: 'Node//node-1', why: 'kubelet stopped posting' },
    namespace: '',
  });
  assert.equal(applyIncident(undefined, byId.get('kec-incident')!, node, T0, ctx), undefined);
  const a = applyIncident(undefined, byId.get('kec-node-problem')!, node, T0, ctx)!;
  assert.equal(a.labels['node'], 'node-1');
  assert.equal(a.labels['alertname'], 'KecNodeProblem');
});

test('rules - the default storm rule alerts on storms of problems, not on bursts of Normal events', () => {
  const storm = loadAlertsConfig([]).rules.find((r) => r.spec.id === 'kec-event-storm')!.spec as PatternRule;
  assert.ok(matchPattern(storm, pattern({ reason: 'BackOff', type: 'Warning', severity: 'error' })));
  assert.ok(matchPattern(storm, pattern({ reason: 'FailedScheduling', type: 'Warning', severity: 'warning' })));
  assert.ok(!matchPattern(storm, pattern({ reason: 'Started', type: 'Normal', severity: 'info' })), 'Normal burst');
  assert.ok(!matchPattern(storm, pattern({ kind: 'first-seen', severity: 'error' })));
  // A pattern without severity (an older correlator) matches no severity matcher.
  const { severity: _s, type: _t, ...old } = pattern();
  assert.ok(!matchPattern(storm, old));
  const byType = { id: 'n', source: 'patterns', match: { type: 'Normal' } } as const satisfies PatternRule;
  assert.ok(matchPattern(byType, pattern({ type: 'Normal', severity: 'info' })));
  assert.ok(!matchPattern(byType, pattern({ type: 'Warning' })));
});

test('rules - events over a threshold in a window fire once per identity and resolve after the quiet period', () => {
  const cfg = config(`
apiVersion: kec.alerts/v1
rules:
  - id: backoff
    source: events
    match: { reason: BackOff, labels: { app: web } }
    threshold: { count: 5, window: 10m, by: [namespace, workload], quiet: 5m }
`);
  const rule = cfg.rules[0]!;
  const f = eventFacts(event({ reason: 'BackOff', name: 'web-7d9f8b6c5d-x2x4z' }));
  const g = eventGroup(rule, f);
  const g2 = eventGroup(rule, eventFacts(event({ reason: 'BackOff', name: 'web-7d9f8b6c5d-b8k2m' })));
  assert.equal(g.id, g2.id, 'two pods of one Deployment share the alert');
  let a = applyOccurrences(undefined, rule, g, 3, { facts: f, message: 'm' }, T0)!;
  assert.equal(a.status, 'inactive');
  a = applyOccurrences(a, rule, g, 2, { facts: f, message: 'm' }, T0 + 60_000)!;
  assert.equal(a.status, 'inactive', 'exactly 5 is not more than 5');
  a = applyOccurrences(a, rule, g, 1, { facts: f, message: 'm' }, T0 + 120_000)!;
  assert.equal(a.status, 'firing');
  assert.equal(a.seq, 1);
  assert.equal(a.counts?.['occurrences'], 6);
  a = applyOccurrences(a, rule, g, 10, { facts: f, message: 'm' }, T0 + 180_000)!;
  assert.equal(a.seq, 1, 'more occurrences while firing are no new transition');
  assert.equal(expire(a, T0 + 180_000 + 299_000, rule.windowMs), undefined);
  const r = expire(a, T0 + 180_000 + 300_000, rule.windowMs) as AlertState;
  assert.equal(r.status, 'resolved');
  assert.equal(r.seq, 2);
  // occurrences outside the window do not add up
  let b = applyOccurrences(undefined, rule, g, 5, { facts: f, message: 'm' }, T0)!;
  b = applyOccurrences(b, rule, g, 5, { facts: f, message: 'm' }, T0 + 11 * 60_000)!;
  assert.equal(b.status, 'inactive');
  assert.equal(expire(b, T0 + 22 * 60_000, rule.windowMs), 'delete');
});

test('rules - an event no events rule can match is known from its subject alone', () => {
  const rule = (match: EventRule['match']) =>
    ({ id: 'r', source: 'events', match, threshold: { count: 1, window: '1m' } }) as EventRule;
  const t = { cluster: 'prod', kind: 'Pod', type: 'Normal', reason: 'Pulled' };
  assert.ok(!eventSubjectCanMatch(rule({ reason: 'BackOff' }), t));
  assert.ok(!eventSubjectCanMatch(rule({ type: 'Warning' }), t));
  assert.ok(!eventSubjectCanMatch(rule({ kind: 'Node' }), t));
  assert.ok(!eventSubjectCanMatch(rule({ cluster: 'dev' }), t));
  assert.ok(eventSubjectCanMatch(rule({ reason: ['Pulled', 'BackOff'], kind: 'Pod' }), t));
  // what the subject does not carry (severity, namespace, labels, message) is decided after parsing
  assert.ok(eventSubjectCanMatch(rule({ severity: 'error', namespace: 'shop' }), t));
  // the correlator writes Unknown for an empty reason: it rules nothing out
  assert.ok(eventSubjectCanMatch(rule({ reason: 'BackOff' }), { ...t, reason: 'Unknown' }));
});

test('alerts file - every problem names file, line, rule and key', () => {
  const text = `apiVersion: kec.alerts/v1
rules:
  - id: ok
    source: incidents
  - id: bad-sev
    source: incidents
    match: { severity: urgent }
  - id: bad-regex
    source: events
    match: { message: "(" }
    threshold: { count: 1, window: 10m }
  - id: bad-template
    source: incidents
    annotations: { summary: "{{ nope.x }}" }
  - id: typo
    source: incidents
    mach: { severity: error }
receivers:
  - name: am
    type: alertmanager
    url: ftp://x
route:
  receiver: pager
  routes:
    - matchers: ['severity=~"("']
inhibit_rules:
  - source_matchers: ['alertname=KecNodeProblem']
    target_matchers: ['oops']
`;
  assert.throws(
    () => loadAlertsConfig(['alerts.yaml'], { defaults: false, texts: { 'alerts.yaml': text } }),
    (err: Error) => {
      const msg = err.message;
      assert.match(
        msg,
        /alerts\.yaml:7: rule bad-sev \/rules\/1\/match\/severity: must be one of info, warning, error, critical/,
      );
      assert.match(msg, /alerts\.yaml:17: rule typo \/rules\/4\/mach: unknown key/);
      return true;
    },
  );
  const semantic = text.replace('    mach: { severity: error }\n', '').replace('severity: urgent', 'severity: error');
  assert.throws(
    () => loadAlertsConfig(['alerts.yaml'], { defaults: false, texts: { 'alerts.yaml': semantic } }),
    (err: Error) => {
      const msg = err.message;
      assert.match(msg, /alerts\.yaml:\d+: receiver am \/receivers\/0\/url: must be an http\(s\) URL/);
      assert.match(msg, /alerts\.yaml:10: rule bad-regex \/rules\/2\/match\/message: bad regex/);
      assert.match(
        msg,
        /alerts\.yaml:14: rule bad-template \/rules\/3\/annotations\/summary: unknown template value \{\{ nope\.x \}\}/,
      );
      assert.match(msg, /alerts\.yaml:\d+: route \/route\/receiver: unknown receiver "pager" \(defined: am\)/);
      assert.match(msg, /alerts\.yaml:\d+: route \/route\/routes\/0\/matchers\/0: bad regex/);
      assert.match(msg, /alerts\.yaml:\d+: inhibit_rules \/inhibit_rules\/0\/target_matchers\/0: bad matcher "oops"/);
      return true;
    },
  );
});

test('route - first matching child, continue, inherited group_by and timings, group keys', () => {
  const route = compileRoute(
    {
      receiver: 'default',
      group_by: ['alertname', 'namespace'],
      group_wait: '10s',
      routes: [
        { matchers: ['severity="critical"'], receiver: 'pager', continue: true, group_interval: '1m' },
        { matchers: ['namespace=~"shop|pay"'], receiver: 'shop', group_by: ['...'] },
        { matchers: ['namespace="shop"'], receiver: 'never' },
      ],
    },
    DEFAULT_ROUTE_TIMING,
  );
  const names = (l: Record<string, string>) => routeAlert(route, l).map((r) => r.receiver);
  assert.deepEqual(names({ severity: 'critical', namespace: 'shop' }), ['pager', 'shop']);
  assert.deepEqual(names({ severity: 'error', namespace: 'shop' }), ['shop']);
  assert.deepEqual(names({ severity: 'error', namespace: 'web' }), ['default']);
  const [pager] = routeAlert(route, { severity: 'critical', namespace: 'x', alertname: 'A' });
  assert.equal(pager!.timing.groupWaitMs, 10_000, 'inherited');
  assert.equal(pager!.timing.groupIntervalMs, 60_000);
  assert.deepEqual(pager!.groupBy, ['alertname', 'namespace'], 'inherited group_by');
});

function alert(id: string, labels: Record<string, string>, status: AlertState['status'] = 'firing'): AlertState {
  return {
    id,
    rule: 'r',
    source: 'incidents',
    status,
    labels,
    annotations: {},
    activeAt: T0,
    seq: 1,
    published: 1,
    updatedAt: T0,
    startsAt: new Date(T0).toISOString(),
  };
}

test('groups - group_wait, then one notification per group_interval with changes, repeat_interval, resolution', () => {
  const route = compileRoute(
    { receiver: 'team', group_by: ['alertname'], group_wait: '30s', group_interval: '5m', repeat_interval: '1h' },
    DEFAULT_ROUTE_TIMING,
  );
  const o = (now: number) => ({ now, muted: new Set<string>(), maxAlerts: 100, idleMs: 3_600_000 });
  const a = alert('a', { alertname: 'X', severity: 'error', pod: '1' });
  const b = alert('b', { alertname: 'X', severity: 'error', pod: '2' });
  let view = groupAlerts(route, [a]).values().next().value!;
  const c = planGroup(view, undefined, o(T0));
  assert.equal(c.kind, 'create');
  let g = (c as { state: import('../src/index.ts').GroupState }).state;
  assert.equal(planGroup(view, g, o(T0 + 29_000)).kind, 'none', 'group_wait');
  view = groupAlerts(route, [a, b]).values().next().value!;
  const n1 = planGroup(view, g, o(T0 + 30_000));
  assert.equal(n1.kind, 'notify');
  if (n1.kind !== 'notify') return;
  assert.equal(n1.notification.version, 1);
  assert.equal(n1.notification.alerts.length, 2, 'both alerts that arrived during group_wait');
  assert.deepEqual(n1.notification.groupLabels, { alertname: 'X' });
  assert.equal(n1.notification.groupKey, '{}:{alertname="X"}');
  assert.deepEqual(n1.notification.commonLabels, { alertname: 'X', severity: 'error' });
  g = n1.state;
  assert.equal(planGroup(view, g, o(T0 + 60_000)).kind, 'none', 'before group_interval');
  assert.equal(planGroup(view, g, o(T0 + 330_000)).kind, 'none', 'nothing changed: no notification, no write');
  // b resolves: the next interval says so; then only a is remembered
  view = groupAlerts(route, [a, { ...b, status: 'resolved', endsAt: new Date(T0 + 400_000).toISOString() }])
    .values()
    .next().value!;
  const n2 = planGroup(view, g, o(T0 + 630_000));
  assert.equal(n2.kind, 'notify');
  if (n2.kind !== 'notify') return;
  assert.equal(n2.notification.version, 2);
  assert.deepEqual(
    n2.notification.alerts.map((x) => [x.id, x.status]),
    [
      ['a', 'firing'],
      ['b', 'resolved'],
    ],
  );
  g = n2.state;
  assert.deepEqual(Object.keys(g.notified), ['a']);
  // repeat_interval: unchanged for an hour -> the same alerts again, on an interval tick
  let t = T0 + 630_000;
  let repeats = 0;
  while (t < T0 + 630_000 + 3_600_000 + 300_000) {
    t += 300_000;
    const d = planGroup(view, g, o(t));
    if (d.kind === 'notify') repeats++;
    if (d.kind === 'notify') g = d.state;
  }
  assert.equal(repeats, 1);
});

test('groups - an alert resolved before group_wait is never notified; Alertmanager receivers resend with endsAt 3x ahead', () => {
  const route = compileRoute({ receiver: 'am', group_by: ['alertname'], group_wait: '30s' }, DEFAULT_ROUTE_TIMING);
  const o = (now: number, resend?: number) => ({
    now,
    muted: new Set<string>(),
    maxAlerts: 100,
    idleMs: 3_600_000,
    receiver: { resendIntervalMs: resend },
  });
  const a = alert('a', { alertname: 'X' });
  const view = groupAlerts(route, [a]).values().next().value!;
  const c = planGroup(view, undefined, o(T0));
  assert.equal(c.kind, 'create');
  if (c.kind !== 'create') return;
  const resolved = groupAlerts(route, [{ ...a, status: 'resolved' }])
    .values()
    .next().value!;
  assert.equal(planGroup(resolved, c.state, o(T0 + 30_000)).kind, 'none');
  const n = planGroup(view, c.state, o(T0 + 30_000, 60_000));
  assert.equal(n.kind, 'notify');
  if (n.kind !== 'notify') return;
  assert.equal(n.notification.alerts[0]!.endsAt, new Date(T0 + 30_000 + 180_000).toISOString());
  // resent after resendInterval although the repeat_interval is 4h (the group_interval of 5m is the tick)
  const again = planGroup(view, n.state, o(T0 + 30_000 + 300_000, 60_000));
  assert.equal(again.kind, 'notify');
});

test('silences and inhibition - matching alerts are muted while they hold, then notified', () => {
  const s: Silence = {
    id: 's1',
    matchers: parseMatchers('namespace="shop"'),
    startsAt: new Date(T0).toISOString(),
    endsAt: new Date(T0 + 60_000).toISOString(),
    createdBy: 'ops',
    comment: 'deploy',
    updatedAt: new Date(T0).toISOString(),
  };
  assert.deepEqual(silencedBy([s], { namespace: 'shop' }, T0 + 1), ['s1']);
  assert.deepEqual(silencedBy([s], { namespace: 'web' }, T0 + 1), []);
  assert.deepEqual(silencedBy([s], { namespace: 'shop' }, T0 + 60_000), [], 'expired');
  const cfg = loadAlertsConfig([]);
  const node = alert('n', { alertname: 'KecNodeProblem', cluster: 'c', node: 'node-1' });
  const pod = alert('p', { alertname: 'KecPodDown', cluster: 'c', node: 'node-1' });
  const other = alert('o', { alertname: 'KecPodDown', cluster: 'c', node: 'node-2' });
  assert.deepEqual([...inhibited(cfg.inhibit, [node, pod, other])], ['p']);
  assert.deepEqual(
    [...inhibited(cfg.inhibit, [{ ...node, status: 'resolved' }, pod])],
    [],
    'only firing sources inhibit',
  );
  // muted alerts are left out; once unmuted, the next interval notifies them
  const route = compileRoute(
    { receiver: 'r', group_by: ['cluster'], group_wait: '0s', group_interval: '1m' },
    DEFAULT_ROUTE_TIMING,
  );
  const view = groupAlerts(route, [pod]).values().next().value!;
  const base = { maxAlerts: 100, idleMs: 3_600_000 };
  assert.equal(planGroup(view, undefined, { ...base, now: T0, muted: new Set(['p']) }).kind, 'none');
  const c = planGroup(view, undefined, { ...base, now: T0 + 60_000, muted: new Set() });
  assert.equal(c.kind, 'create');
  if (c.kind !== 'create') return;
  assert.equal(planGroup(view, c.state, { ...base, now: T0 + 60_000, muted: new Set() }).kind, 'notify');
});
