// `kec alerts check` and `kec silence add|ls|expire` through the real CLI program and the real NATS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '@kec/cli';
import { listSilences, silencedBy } from '../src/index.ts';
import { NATS_URL, space, writeTemp } from './helpers.ts';

function capture() {
  let out = '';
  let err = '';
  return {
    ctx: (env: Record<string, string> = {}) => ({
      env,
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        err += t;
      },
    }),
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

test('alerts check - a valid file passes with counts; bad rules, templates and unknown receivers exit 2 naming file, line and key', async () => {
  const good = writeTemp(
    'good.yaml',
    'apiVersion: kec.alerts/v1\nrules:\n  - id: mine\n    source: incidents\n    match: { severity: critical, namespace: shop }\n',
  );
  const c = capture();
  assert.equal(await runCli(['node', 'kec', 'alerts', 'check', good], c.ctx()), 0);
  assert.match(c.out, /good\.yaml: ok \(1 rules\)/);
  assert.match(c.out, /with the defaults: 4 rules, 0 receivers, 1 inhibition rules, no route/);
  const bad = writeTemp(
    'bad.yaml',
    [
      'apiVersion: kec.alerts/v1',
      'rules:',
      '  - id: storm',
      '    source: patterns',
      '    annotations: { summary: "{{ labels.namespace }" }',
      'route:',
      '  receiver: slack-ops',
      '',
    ].join('\n'),
  );
  const d = capture();
  assert.equal(await runCli(['node', 'kec', 'alerts', 'check', bad], d.ctx()), 2);
  assert.match(d.err, new RegExp(`${bad}:5: rule storm /rules/0/annotations/summary: unbalanced`));
  assert.match(d.err, new RegExp(`${bad}:7: route /route/receiver: unknown receiver "slack-ops"`));
});

test('silence - add, ls and expire through the KV the alerters watch', async () => {
  const sp = await space();
  try {
    const env = { KEC_NATS_URL: NATS_URL, KEC_ALERTER_SUBJECT_ROOT: sp.root, KEC_ALERTER_BUCKET: sp.bucket };
    const c = capture();
    const args = [
      'node',
      'kec',
      'silence',
      'add',
      'namespace="shop"',
      'alertname=~"Kec.*"',
      '-d',
      '2h',
      '-m',
      'deploy',
      '-a',
      'ops',
    ];
    assert.equal(await runCli(args, c.ctx(env)), 0, c.err);
    const id = c.out.split(/\s+/)[0]!;
    assert.match(c.out, /namespace="shop", alertname=~"Kec\.\*" {2}until /);
    const [s] = await listSilences(sp.bus, sp.bucket);
    assert.equal(s?.id, id);
    assert.deepEqual(silencedBy([s!], { namespace: 'shop', alertname: 'KecIncident' }, Date.now()), [id]);
    const ls = capture();
    assert.equal(await runCli(['node', 'kec', 'silence', 'ls'], ls.ctx(env)), 0);
    assert.match(ls.out, new RegExp(`${id}\\s+active\\s+namespace="shop"`));
    const ex = capture();
    assert.equal(await runCli(['node', 'kec', 'silence', 'expire', id], ex.ctx(env)), 0, ex.err);
    const ls2 = capture();
    assert.equal(await runCli(['node', 'kec', 'silence', 'ls'], ls2.ctx(env)), 0);
    assert.ok(!ls2.out.includes(id), 'expired silences are hidden');
    const ls3 = capture();
    assert.equal(await runCli(['node', 'kec', 'silence', 'ls', '--all'], ls3.ctx(env)), 0);
    assert.match(ls3.out, new RegExp(`${id}\\s+expired`));
    const bad = capture();
    assert.equal(await runCli(['node', 'kec', 'silence', 'add', 'namespace=~"("', '-m', 'x'], bad.ctx(env)), 2);
    assert.match(bad.err, /bad regex/);
  } finally {
    await sp.cleanup();
  }
});
