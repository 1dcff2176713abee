// Small helpers shared by scenarios.
import type { PodModel, WorkloadModel } from './cluster.ts';
import { podTemplateHash } from './rng.ts';

export type { PodModel };

export function podTemplateHashFor(w: WorkloadModel, image: string): string {
  const labels = { app: w.name, 'app.kubernetes.io/name': w.name };
  return podTemplateHash({ metadata: { labels }, spec: { containers: [{ name: w.container, image }] } });
}
