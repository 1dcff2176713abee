import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SubjectError, subjects, token, untoken, validateRoot } from '../src/index.ts';

test('subjects - token keeps ordinary Kubernetes names readable', () => {
  assert.equal(token('kube-system'), 'kube-system');
  assert.equal(token('FailedScheduling'), 'FailedScheduling');
  assert.equal(token('a_b'), 'a_b');
});

test('subjects - token encodes dots, wildcards, whitespace and percent', () => {
  assert.equal(token('nginx.example.com'), 'nginx%2Eexample%2Ecom');
  assert.equal(token('a*b>c'), 'a%2Ab%3Ec');
  assert.equal(token('has space\ttab\nnl'), 'has%20space%09tab%0Anl');
  assert.equal(token('50%'), '50%25');
  assert.equal(token('nb\u00a0sp'), 'nb%C2%A0sp');
  for (const t of [token('x.y'), token('a b'), token('*'), token('>')]) {
    assert.doesNotMatch(t, /[.*>\s]/);
  }
});

test('subjects - empty becomes _ and _ becomes %5F', () => {
  assert.equal(token(''), '_');
  assert.equal(token('_'), '%5F');
  assert.equal(untoken('_'), '');
  assert.equal(untoken('%5F'), '_');
});

test('subjects - untoken reverses token for awkward values', () => {
  const values = ['', '_', '__', '%', '%25', 'a.b.c', ' ', '.', '*', '>', 'ü.ß', '😀 x', '\u0000\u007f', 'a%2Eb', 'x_'];
  for (const v of values) assert.equal(untoken(token(v)), v, JSON.stringify(v));
});

test('subjects - untoken rejects what token cannot produce', () => {
  for (const bad of ['', 'a.b', 'a b', '*', '%zz', '%4', '%C3']) {
    assert.throws(() => untoken(bad), SubjectError, JSON.stringify(bad));
  }
});

test('subjects - builders follow the grammar', () => {
  const s = subjects();
  assert.equal(s.root, 'kec');
  assert.equal(s.raw('prod', 'default', 'Pod'), 'kec.raw.prod.default.Pod');
  assert.equal(s.enriched('prod', 'default', 'Pod'), 'kec.enriched.prod.default.Pod');
  assert.equal(s.events('prod', 'web', 'Pod', 'Warning', 'BackOff'), 'kec.events.prod.web.Pod.Warning.BackOff');
  assert.equal(s.incidents('prod', 'web'), 'kec.incidents.prod.web');
  assert.equal(s.patterns('prod', 'web'), 'kec.patterns.prod.web');
  assert.equal(s.gaps('prod'), 'kec.gaps.prod');
  assert.equal(s.dlq('enricher'), 'kec.dlq.enricher');
  // cluster-scoped object: namespace ''
  assert.equal(s.raw('prod', '', 'Node'), 'kec.raw.prod._.Node');
  // names with dots stay one token
  assert.equal(s.raw('eu.west', 'ns', 'Pod'), 'kec.raw.eu%2Ewest.ns.Pod');
});

test('subjects - custom roots, filters and parse', () => {
  const s = subjects('t1234');
  assert.equal(s.all('raw'), 't1234.raw.>');
  assert.equal(s.filter('events', 'prod', undefined, 'Pod'), 't1234.events.prod.*.Pod.>');
  assert.equal(s.filter('gaps', 'prod'), 't1234.gaps.prod');
  assert.throws(() => s.filter('gaps', 'a', 'b'), SubjectError);
  const subject = s.events('c.1', '', 'Pod', 'Warning', 'Failed Mount');
  assert.deepEqual(s.parse(subject), { kind: 'events', tokens: ['c.1', '', 'Pod', 'Warning', 'Failed Mount'] });
  assert.equal(s.parse('other.events.a.b.c.d.e'), undefined);
  assert.equal(s.parse('t1234.events.too.short'), undefined);
  assert.equal(s.parse('t1234.nope.a'), undefined);
  const dotted = subjects('kec.prod');
  assert.deepEqual(dotted.parse(dotted.gaps('c')), { kind: 'gaps', tokens: ['c'] });
});

test('subjects - invalid roots are rejected', () => {
  for (const bad of ['', 'a..b', 'a.*', 'a>', 'has space', '.kec']) {
    assert.throws(() => validateRoot(bad), SubjectError, JSON.stringify(bad));
  }
  assert.throws(() => subjects('a.>'), SubjectError);
});
