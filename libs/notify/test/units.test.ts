import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ceHeaderValue,
  compileTemplates,
  createNotifier,
  DINGTALK_TEMPLATES,
  dingtalkSign,
  dingtalkSignedUrl,
  durationMs,
  escapeMarkdown,
  escapeSlack,
  isNotification,
  notificationErrors,
  notificationMsgId,
  parseRetryAfter,
  ReceiverConfigError,
  ReceiverGate,
  receiverConfigProblems,
  redactUrl,
} from '../src/index.ts';
import { notification } from './helpers.ts';

test('payload - a valid notification passes, a broken one names the key', () => {
  const n = notification('ops', 'g1', 3);
  assert.equal(isNotification(n), true);
  assert.deepEqual(notificationErrors(n), []);
  assert.equal(notificationMsgId(n), 'ops/g1/3');
  const bad = { ...n, status: 'burning', receiver: 'Bad Name' };
  const errs = notificationErrors(bad);
  assert.ok(
    errs.some((e) => e.startsWith('/status')),
    errs.join('\n'),
  );
  assert.ok(
    errs.some((e) => e.startsWith('/receiver')),
    errs.join('\n'),
  );
});

test('config - durations, problems named by key, per-type rules', () => {
  assert.equal(durationMs('1m30s'), 90_000);
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs(1500), 1500);
  assert.deepEqual(receiverConfigProblems({ name: 'x', type: 'pager' }), [
    { path: '/type', message: 'must be one of alertmanager, webhook, slack, dingtalk' },
  ]);
  const p = receiverConfigProblems({ name: 'x', type: 'slack', url: 'https://hooks.slack.com/x' });
  assert.ok(
    p.some((e) => e.path === '/url'),
    JSON.stringify(p),
  );
  assert.deepEqual(receiverConfigProblems({ name: 'd', type: 'dingtalk' }), [
    { path: '/url', message: 'give exactly one of url or accessToken' },
  ]);
  assert.deepEqual(receiverConfigProblems({ name: 'am', type: 'alertmanager', url: 'http://am:9093' }), []);
  assert.throws(
    () => createNotifier({ name: 'am', type: 'alertmanager', url: 'am:9093' }),
    (e: unknown) => e instanceof ReceiverConfigError && e.path === '/url' && e.receiver === 'am',
  );
});

test('secrets - read from env or file, errors name the source and never the value', () => {
  const env = { SLACK_URL: 'https://hooks.slack.com/services/T0/B0/secret-token' };
  const n = createNotifier({ name: 's', type: 'slack', url: { env: 'SLACK_URL' } }, { env });
  assert.equal(n.describe, 'slack receiver s (https://hooks.slack.com/…)');
  assert.ok(!n.describe.includes('secret-token'));
  assert.throws(
    () => createNotifier({ name: 's', type: 'slack', url: { env: 'MISSING' } }, { env }),
    /receiver s: secret env MISSING is not set/,
  );
  assert.throws(
    () => createNotifier({ name: 's', type: 'slack', url: { file: '/nonexistent/slack' } }, { env }),
    /cannot read secret file \/nonexistent\/slack/,
  );
  assert.equal(redactUrl('https://oapi.dingtalk.com/robot/send?access_token=abc'), 'https://oapi.dingtalk.com/…');
});

test('dingtalk - signature matches the documented algorithm (test vector) and is URL-encoded', () => {
  // Vector from the research notes (node crypto == python hmac).
  assert.equal(dingtalkSign(1700000000000, 'SEC0123456789abcdef'), 'TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=');
  const url = dingtalkSignedUrl(
    'https://oapi.dingtalk.com/robot/send?access_token=t',
    'SEC0123456789abcdef',
    1700000000000,
  );
  assert.equal(
    url,
    'https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D',
  );
});

test('http - Retry-After in seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('0.5'), 500);
  const now = Date.parse('2026-12-07T10:00:00Z');
  assert.equal(parseRetryAfter('Mon, 07 Dec 2026 10:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('cloudevents - binary header values are percent-encoded as the HTTP binding says', () => {
  assert.equal(ceHeaderValue('{}:{alertname="X", ns="a"}'), '{}:{alertname=%22X%22,%20ns=%22a%22}');
  assert.equal(ceHeaderValue('100%'), '100%25');
  assert.equal(ceHeaderValue('命名'), '%E5%91%BD%E5%90%8D');
  assert.equal(decodeURIComponent(ceHeaderValue('a "b" 命名 %')), 'a "b" 命名 %');
});

test('templates - values are escaped for the target format; user templates override; bad ones fail at start', () => {
  assert.equal(escapeSlack('<!channel> & <http://x|y>'), '&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
  assert.equal(escapeMarkdown('web_1 *x* [a](b)'), 'web\\_1 \\*x\\* \\[a\\]\\(b\\)');
  const n = notification('d', 'g', 1, {
    commonAnnotations: { summary: 'pod <b>web_1</b>', root_cause: 'OOM' },
  });
  const t = compileTemplates(
    'd',
    DINGTALK_TEMPLATES,
    { title: 'T: {{summary}} / {{upper commonLabels.severity}}' },
    {
      markdown: escapeMarkdown,
    },
  );
  assert.equal(t.title(n), 'T: pod <b>web_1</b> / ERROR');
  assert.match(t.markdown(n), /### \[FIRING\] pod \\<b\\>web\\_1\\<\/b\\>/);
  assert.match(t.markdown(n), /\*\*Root cause:\*\* OOM/);
  // Links are not escaped as text, but what would end a markdown link is percent-encoded.
  n.alerts[0]!.generatorURL = 'https://kec.example/i/a_(1) x';
  assert.match(t.markdown(n), /\n\n\[Open in kec\]\(https:\/\/kec\.example\/i\/a_%281%29%20x\)$/);
  n.alerts[0]!.generatorURL = 'javascript:alert(1)';
  n.externalURL = undefined;
  assert.doesNotMatch(t.markdown(n), /Open in kec/);
  assert.throws(
    () => compileTemplates('d', DINGTALK_TEMPLATES, { title: '{{#if x}}unclosed' }, {}),
    (e: unknown) =>
      e instanceof ReceiverConfigError && e.path === '/templates/title' && /template title/.test(e.message),
  );
  assert.throws(
    () => compileTemplates('d', DINGTALK_TEMPLATES, { subject: 'x' }, {}),
    (e: unknown) => e instanceof ReceiverConfigError && e.path === '/templates/subject',
  );
});

test('gate - at most N starts per window, FIFO, pauses hold every waiter', async () => {
  const gate = new ReceiverGate({ concurrency: 10, rateLimit: { messages: 3, perMs: 300 } });
  const t0 = Date.now();
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: 7 }, async (_, i) => {
      const release = await gate.acquire();
      starts[i] = Date.now() - t0;
      release();
    }),
  );
  // 3 at once, 3 after ~300 ms, 1 after ~600 ms; in order.
  for (let i = 1; i < 7; i++) assert.ok((starts[i] as number) >= (starts[i - 1] as number), `order ${starts}`);
  assert.ok((starts[3] as number) >= 280, `4th start ${starts[3]}`);
  assert.ok((starts[6] as number) >= 580, `7th start ${starts[6]}`);
  for (let i = 3; i < 7; i++) {
    assert.ok((starts[i] as number) - (starts[i - 3] as number) >= 270, `window ${starts}`);
  }

  const g2 = new ReceiverGate({ concurrency: 1 });
  const r1 = await g2.acquire();
  let second = false;
  const p2 = g2.acquire().then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false, 'concurrency 1 holds the second');
  r1();
  (await p2)();
  const t1 = Date.now();
  g2.pauseUntil(t1 + 200);
  (await g2.acquire())();
  assert.ok(Date.now() - t1 >= 195, 'pause respected');
  const ac = new AbortController();
  g2.pauseUntil(Date.now() + 10_000);
  const aborted = g2.acquire({ signal: ac.signal });
  ac.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  g2.close(new Error('closed'));
});
