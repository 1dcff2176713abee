// Traces leave the process: every service exports OTLP/HTTP (JSON) to a local receiver, and one event's spans,
// joined by the W3C trace context carried in NATS headers, form one trace from the watcher's publish through the
// enricher, the correlator and the writer.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  cleanup,
  createSimEvent,
  type Isolation,
  newIsolation,
  type SimProc,
  startSimProcess,
  waitFor,
} from '../src/index.ts';
import { Pipeline } from '../src/pipeline.ts';

interface SpanSeen {
  traceId: string;
  name: string;
  service: string;
  group: string;
}

type Attr = { key: string; value: { stringValue?: string } };
type OtlpJson = {
  resourceSpans?: {
    resource?: { attributes?: Attr[] };
    scopeSpans?: { spans?: { traceId: string; name: string; attributes?: Attr[] }[] }[];
  }[];
};

const attr = (list: Attr[] | undefined, key: string): string =>
  list?.find((a) => a.key === key)?.value.stringValue ?? '';

let iso: Isolation;
let sim: SimProc;
let pipe: Pipeline;
let receiver: Server;
const spans: SpanSeen[] = [];
let requests = 0;

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      requests++;
      if (req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('json')) {
        const doc = JSON.parse(body) as OtlpJson;
        for (const rs of doc.resourceSpans ?? []) {
          const service = attr(rs.resource?.attributes, 'service.name');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: s.traceId,
                name: s.name,
                service,
                group: attr(s.attributes, 'messaging.consumer.group.name'),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  iso = newIsolation();
  sim = await startSimProcess(['--scenario', 'none']);
  pipe = new Pipeline(iso, sim.kubeconfig, {
    watchers: 1,
    enrichers: 1,
    correlators: 1,
    writers: 1,
    extra: { KEC_OTLP_ENDPOINT: endpoint, KEC_TRACE_SAMPLE_RATIO: '1' },
  });
  await pipe.startAll();
});

after(async () => {
  await pipe?.stopAll().catch(() => undefined);
  await sim?.stop('SIGTERM');
  await cleanup(iso);
  await new Promise<void>((r) => receiver.close(() => r()));
});

test('otlp - one event makes one trace: watcher publish, enricher, correlator and writer spans', async (t) => {
  await createSimEvent(sim, `otlp-${iso.id}`);
  const stages = (id: string) => {
    const of = spans.filter((s) => s.traceId === id);
    return {
      watcher: of.some((s) => s.service === 'watcher' && s.name.startsWith('publish')),
      enricher: of.some((s) => s.group === 'enricher'),
      correlator: of.some((s) => s.group === 'correlator'),
      writer: of.some((s) => s.group === 'writer'),
    };
  };
  const traceId = await waitFor(
    'a trace across every stage',
    () => [...new Set(spans.map((s) => s.traceId))].find((id) => Object.values(stages(id)).every(Boolean)),
    90_000,
    250,
  );
  const of = spans.filter((s) => s.traceId === traceId);
  t.diagnostic(
    `${requests} OTLP requests, ${spans.length} spans; trace ${traceId}: ${of.map((s) => `${s.service}:${s.name}${s.group ? `(${s.group})` : ''}`).join(', ')}`,
  );
  assert.ok(of.length >= 4);
});
