// Writes the dashboards of dashboards.ts as JSON into deploy/grafana/dashboards (run after changing them:
// `node deploy/grafana/src/generate.ts`); deploy/test/grafana.test.ts fails when the files differ.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS } from './dashboards.ts';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', 'dashboards');

export function dashboardJson(name: string): string {
  const d = DASHBOARDS[name];
  if (!d) throw new Error(`no dashboard ${name}`);
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (import.meta.main) {
  for (const name of Object.keys(DASHBOARDS)) writeFileSync(join(DASHBOARD_DIR, name), dashboardJson(name));
  process.stdout.write(`wrote ${Object.keys(DASHBOARDS).length} dashboards to ${DASHBOARD_DIR}\n`);
}
