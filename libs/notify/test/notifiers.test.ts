// Each notifier through the real sender and the real NATS outbox, against local HTTP receivers that check payloads.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { DLQ_HEADERS } from '@kec/bus';
import { type CloudEvent, HTTP } from 'cloudevents';
import { NOTIFY_DLQ_HEADERS, type Notification } from '../src/index.ts';
import { httpReceiver, notification, testOutbox, waitFor } from './helpers.ts';

// The HTTP binding (1.0.2+, 3.1.3.2) has ce-* values percent-encoded by the sender and decoded by the receiver; the
// JavaScript SDK 10 does not decode them, so this receiver does, as the binding says, before the SDK parses the event.
function toEvent(r: { headers: Record<string, string>; body: string }): CloudEvent<unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = k.startsWith('ce-') ? decodeURIComponent(v) : v;
  const e = HTTP.toEvent({ headers, body: r.body });
  assert.ok(!Array.isArray(e), 'one event, not a batch');
  return e as CloudEvent<unknown>;
}

for (const mode of ['structured', 'binary'] as const) {
  test(`webhook - CloudEvents 1.0 ${mode} mode, parsed by the official SDK, HMAC signature verified`, async (t) => {
    const ob = await testOutbox(t);
    const rx = await httpReceiver(t);
    const secret = 'hmac-secret-0123';
    await ob.sender({
      receivers: [
        {
          name: 'hook',
          type: 'webhook',
          url: `${rx.url}/events`,
          mode,
          source: 'https://kec.example/clusters/prod-1',
          hmacSecret: { env: 'HOOK_SECRET' },
        },
      ],
      secrets: { env: { HOOK_SECRET: secret } },
    });
    const firing = notification('hook', '{}:{alertname="KecIncident", namespace="shop"}', 1);
    const resolved = notification('hook', '{}:{alertname="KecIncident", namespace="shop"}', 2, { status: 'resolved' });
    await ob.publish(firing);
    await ob.publish(resolved);
    await waitFor(() => rx.requests.length >= 2, 15_000, 'two webhook requests');
    const [a, b] = rx.requests as [(typeof rx.requests)[0], (typeof rx.requests)[0]];
    for (const [r, n] of [
      [a, firing],
      [b, resolved],
    ] as const) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/events');
      if (mode === 'structured') {
        assert.match(r.headers['content-type'] ?? '', /^application\/cloudevents\+json/);
        const raw = JSON.parse(r.body) as Record<string, unknown>;
        assert.equal(raw.specversion, '1.0');
      } else {
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['ce-specversion'], '1.0');
        assert.equal(r.headers['ce-subject'], '{}:{alertname=%22KecIncident%22,%20namespace=%22shop%22}');
        assert.equal(r.headers['ce-datacontenttype'], undefined, 'binary mode: datacontenttype is Content-Type');
        assert.deepEqual(JSON.parse(r.body), n);
      }
      const ev = toEvent(r);
      assert.equal(ev.specversion, '1.0');
      assert.equal(ev.id, `hook/${n.groupKey}/${n.version}`, 'id = the notification msg id');
      assert.equal(ev.source, 'https://kec.example/clusters/prod-1');
      assert.equal(ev.type, `io.kec.alert.${n.status}`);
      assert.equal(ev.subject, n.groupKey);
      assert.equal(ev.datacontenttype, 'application/json');
      assert.ok(ev.time && Math.abs(Date.parse(ev.time) - r.at) < 60_000, `time ${ev.time}`);
      assert.deepEqual(ev.data, n);
      const expected = `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`;
      assert.equal(r.headers['x-kec-signature'], expected, 'HMAC-SHA256 over the exact body');
    }
  });
}

test('slack - blocks and fallback text; a 429 with Retry-After is honoured, then delivered once', async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  let calls = 0;
  rx.reply = () => {
    calls++;
    return calls === 1
      ? { status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' }
      : { status: 200, body: 'ok' };
  };
  const sender = await ob.sender({
    receivers: [{ name: 'slack', type: 'slack', url: { env: 'SLACK_URL' }, channel: '#alerts' }],
    secrets: { env: { SLACK_URL: `${rx.url}/services/T000/B000/XXXX` } },
  });
  const n = notification('slack', 'g-slack', 1, {
    commonAnnotations: {
      summary: 'BackOff x5 on Pod shop/web-1 <!channel>',
      root_cause: 'ImagePullBackOff: image "web:bad" not found',
      affected: 'Pod shop/web-1\nPod shop/web-2',
    },
  });
  await ob.publish(n);
  await waitFor(() => rx.requests.length >= 2, 20_000, '429 then the retry');
  const [first, second] = rx.requests as [(typeof rx.requests)[0], (typeof rx.requests)[0]];
  assert.ok(second.at - first.at >= 1900, `retry came ${second.at - first.at} ms after the 429 (Retry-After: 2)`);
  assert.equal(second.url, '/services/T000/B000/XXXX');
  const body = JSON.parse(second.body) as { text: string; channel: string; blocks: Array<Record<string, unknown>> };
  assert.equal(body.channel, '#alerts');
  assert.match(body.text, /^\[FIRING\] BackOff x5 on Pod shop\/web-1 &lt;!channel&gt; \(shop\)$/);
  const types = body.blocks.map((b) => b.type);
  assert.deepEqual(types, ['header', 'section', 'section', 'section', 'section', 'actions']);
  const header = body.blocks[0] as { text: { type: string; text: string } };
  assert.equal(header.text.type, 'plain_text');
  assert.equal(header.text.text, '[FIRING:1] BackOff x5 on Pod shop/web-1 <!channel>');
  const fields = (body.blocks[1] as { fields: Array<{ text: string }> }).fields.map((f) => f.text);
  assert.deepEqual(fields, ['*Severity:*\nerror', '*Status:*\nfiring', '*Cluster:*\nprod-1', '*Namespace:*\nshop']);
  const texts = body.blocks.slice(2, 5).map((b) => (b as { text: { text: string } }).text.text);
  assert.equal(texts[0], '*Root cause:* ImagePullBackOff: image "web:bad" not found');
  assert.equal(texts[1], '*Affected:*\n• Pod shop/web-1\n• Pod shop/web-2');
  assert.match(texts[2] as string, /occurrences: \*1\*/);
  const button = (body.blocks[5] as { elements: Array<{ url: string }> }).elements[0];
  assert.equal(button?.url, 'https://kec.example/incidents/g-slack');
  await waitFor(() => sender.stats()[0]?.sent === 1, 5_000, 'sent counted');
  assert.equal(rx.requests.length, 2, 'delivered once after the 429');
});

test('slack - the default rate limit spaces messages about 1 s apart and queues rather than drops', async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  await ob.sender({
    receivers: [{ name: 'slack', type: 'slack', url: { env: 'SLACK_URL' } }],
    secrets: { env: { SLACK_URL: `${rx.url}/hook` } },
  });
  for (let i = 0; i < 4; i++) await ob.publish(notification('slack', `g${i}`, 1));
  await waitFor(() => rx.requests.length >= 4, 20_000, 'four messages');
  // The gate starts requests ≥ 1 s apart (checked exactly in the gate's unit test); arrivals can bunch up when an
  // earlier request is slow on a loaded machine, so the receiver checks the span: message i arrives ≥ (i-1) s after
  // the first (four messages at once would arrive within milliseconds).
  const at = rx.requests.map((r) => r.at);
  for (let i = 2; i < 4; i++) {
    const span = (at[i] as number) - (at[0] as number);
    assert.ok(span >= (i - 1) * 1000, `message ${i} arrived ${span} ms after the first (${at.join(', ')})`);
  }
});

test('dingtalk - signed requests the receiver verifies; text and markdown; errcode != 0 with HTTP 200 fails', async (t) => {
  const ob = await testOutbox(t);
  const rx = await httpReceiver(t);
  const secret = 'SEC0123456789abcdef0123456789abcdef';
  const verified: boolean[] = [];
  rx.reply = (r) => {
    const u = new URL(r.url, rx.url);
    const ts = u.searchParams.get('timestamp') ?? '';
    const sign = u.searchParams.get('sign') ?? '';
    // The receiver recomputes the signature as DingTalk documents it.
    const expected = createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
    const ok =
      sign === expected &&
      Math.abs(Date.now() - Number(ts)) < 3_600_000 &&
      u.searchParams.get('access_token') === 'tok';
    verified.push(ok);
    const body = JSON.parse(r.body) as { text?: { content: string } };
    if (body.text?.content.includes('REJECT'))
      return { status: 200, body: '{"errcode":310000,"errmsg":"keywords not in content"}' };
    return ok
      ? { status: 200, body: '{"errcode":0,"errmsg":"ok"}' }
      : { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' };
  };
  await ob.sender({
    receivers: [
      {
        name: 'ding-md',
        type: 'dingtalk',
        accessToken: { env: 'DING_TOKEN' },
        endpoint: `${rx.url}/robot/send`,
        secret: { env: 'DING_SECRET' },
        atMobiles: ['13800000000'],
      },
      {
        name: 'ding-text',
        type: 'dingtalk',
        url: { env: 'DING_URL' },
        secret: { env: 'DING_SECRET' },
        msgtype: 'text',
        isAtAll: true,
      },
    ],
    secrets: { env: { DING_TOKEN: 'tok', DING_SECRET: secret, DING_URL: `${rx.url}/robot/send?access_token=tok` } },
  });
  await ob.publish(notification('ding-md', 'g1', 1));
  await ob.publish(notification('ding-text', 'g1', 1));
  await waitFor(() => rx.requests.length >= 2, 15_000, 'two robot messages');
  assert.deepEqual(verified, [true, true]);
  interface RobotBody {
    msgtype: string;
    markdown: { title: string; text: string };
    text: { content: string };
    at: unknown;
  }
  const bodies = rx.requests.map((r) => JSON.parse(r.body) as RobotBody);
  const md = bodies.find((b) => b.msgtype === 'markdown');
  const text = bodies.find((b) => b.msgtype === 'text');
  assert.ok(md && text);
  assert.equal(md.markdown.title, '[FIRING] BackOff on g1');
  assert.match(md.markdown.text, /^### \[FIRING\] BackOff on g1\n/);
  assert.match(md.markdown.text, /- \*\*Root cause:\*\* ImagePullBackOff\n/);
  assert.match(md.markdown.text, /\[Open in kec\]\(https:\/\/kec\.example\/incidents\/g1\)/);
  assert.match(md.markdown.text, /@13800000000$/);
  assert.deepEqual(md.at, { atMobiles: ['13800000000'], atUserIds: [], isAtAll: false });
  assert.match(text.text.content, /^\[kec FIRING\] BackOff on g1\nSeverity: error\n/);
  assert.deepEqual(text.at, { atMobiles: [], atUserIds: [], isAtAll: true });
  assert.equal(rx.requests[0]?.headers['content-type'], 'application/json;charset=utf-8');

  // errcode 310000 with HTTP 200: a permanent failure → dead letter with the reason.
  await ob.publish(
    notification('ding-text', 'g2', 1, { commonAnnotations: { summary: 'REJECT me' } } as Partial<Notification>),
  );
  await waitFor(async () => (await ob.deadLetters()).length === 1, 15_000, 'the dead letter');
  const [dl] = await ob.deadLetters();
  assert.equal(dl?.headers[DLQ_HEADERS.reason], 'rejected');
  assert.equal(dl?.headers[NOTIFY_DLQ_HEADERS.receiver], 'ding-text');
  assert.equal(dl?.headers[NOTIFY_DLQ_HEADERS.status], '200');
  assert.match(dl?.headers[DLQ_HEADERS.error] ?? '', /errcode 310000: keywords not in content/);
  assert.equal(dl?.headers[DLQ_HEADERS.msgId], 'ding-text/g2/1');
  assert.equal((dl?.data as Notification | undefined)?.groupKey, 'g2');
  assert.ok(!JSON.stringify(dl?.headers).includes(secret), 'no secret in the dead letter');
});
