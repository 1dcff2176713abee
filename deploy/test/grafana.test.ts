// deploy/grafana: the dashboards' JSON is the one generated from deploy/grafana/src (typed against @grafana/schema),
// uids are unique and every panel reads a datasource the chart and compose provision. grafana-sql.test.ts runs
// every panel's SQL against a store the real pipeline filled.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DASHBOARDS } from '../grafana/src/dashboards.ts';
import { DASHBOARD_DIR, dashboardJson } from '../grafana/src/generate.ts';
import { helmTemplate, ROOT } from './helm.ts';

// biome-ignore lint/suspicious/noExplicitAny: dashboard JSON as read from disk
type Json = Record<string, any>;

const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const dashboards: [string, Json][] = files.map((f) => [f, JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8'))]);

function panelsOf(d: Json): Json[] {
  return (d.panels as Json[]).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

describe('grafana dashboards (static)', () => {
  test('grafana - the JSON files are the ones generated from the typed sources', () => {
    assert.deepEqual(files.sort(), Object.keys(DASHBOARDS).sort());
    for (const f of files)
      assert.equal(
        readFileSync(join(DASHBOARD_DIR, f), 'utf8'),
        dashboardJson(f),
        `${f}: run node deploy/grafana/src/generate.ts`,
      );
  });

  test('grafana - uids and panel ids are unique; every panel reads a provisioned datasource', () => {
    const uids = dashboards.map(([, d]) => d.uid);
    assert.equal(new Set(uids).size, uids.length);
    const provisioned = readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/kec.yaml'), 'utf8');
    const chart = helmTemplate([
      '--set',
      'profile=scaled',
      '--set',
      'clickhouse.authSecret=x',
      '--set',
      'grafana.adminSecret=y',
    ]);
    const chartDs = chart.objects.find((o) => o.metadata.name === 'kec-grafana-provisioning')?.data['datasources.yaml'];
    for (const [f, d] of dashboards) {
      const ids = panelsOf(d).map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${f}: panel ids`);
      for (const p of panelsOf(d)) {
        for (const t of p.targets) {
          const uid = t.datasource.uid as string;
          assert.match(provisioned, new RegExp(`uid: ${uid}\\b`), `${f}/${p.title}: compose provisions ${uid}`);
          assert.match(chartDs, new RegExp(`uid: ${uid}\\b`), `${f}/${p.title}: the chart provisions ${uid}`);
        }
      }
    }
    const dashboardsCm = chart.objects.find((o) => o.metadata.name === 'kec-grafana-dashboards')?.data ?? {};
    assert.deepEqual(Object.keys(dashboardsCm).sort(), files.sort(), 'the chart ships every dashboard');
  });
});
