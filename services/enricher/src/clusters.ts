// One enricher pool, many clusters: each event is enriched from its own cluster's cache (keys namespaced by
// cluster) and, on a miss, from its own cluster's API server; an event of a cluster this replica has no
// kubeconfig for passes through as `unavailable` (detail `no-cluster-access`) rather than borrowing another
// cluster's labels.
import type { EnrichedEvent } from '@kec/cache';
import { formatMicroTime, type KecEvent } from '@kec/model';
import { unavailable } from './enricher.ts';

/** A cluster this replica serves: its name (KEC_CLUSTER of its watcher) and how to reach its API server. */
export interface ClusterTarget {
  name: string;
  /** kubeconfig path; '' = $KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig: string;
  /** kubeconfig context; undefined = the file's current context. */
  context?: string | undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * KEC_ENRICHER_CLUSTERS: `name=kubeconfigPath[#context],...`. Empty: the process's own cluster (KEC_CLUSTER) with
 * KEC_ENRICHER_KUBECONFIG. Throws an Error naming the bad entry.
 */
export function parseClusters(spec: string, own: ClusterTarget): ClusterTarget[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) return [own];
  const out: ClusterTarget[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const rest = eq < 0 ? '' : entry.slice(eq + 1);
    const hash = rest.lastIndexOf('#');
    const kubeconfig = hash < 0 ? rest : rest.slice(0, hash);
    const context = hash < 0 ? undefined : rest.slice(hash + 1) || undefined;
    if (!DNS_LABEL.test(name)) {
      throw new Error(`KEC_ENRICHER_CLUSTERS: "${name}" is not a cluster name (a DNS-1123 label, as KEC_CLUSTER)`);
    }
    if (out.some((c) => c.name === name)) throw new Error(`KEC_ENRICHER_CLUSTERS: cluster "${name}" is listed twice`);
    out.push({ name, kubeconfig, context });
  }
  return out;
}

export interface BatchEnricher {
  enrichBatch(events: readonly KecEvent[]): Promise<EnrichedEvent[]>;
}

/** Splits a batch by cluster, enriches each part with its cluster's enricher and puts the results back in order. */
export class ClusterRouter implements BatchEnricher {
  readonly #byCluster: ReadonlyMap<string, BatchEnricher>;
  readonly #now: () => number;
  readonly #onNoAccess: (cluster: string) => void;

  constructor(
    byCluster: ReadonlyMap<string, BatchEnricher>,
    opts: { now?: () => number; onNoAccess?: (cluster: string) => void } = {},
  ) {
    this.#byCluster = byCluster;
    this.#now = opts.now ?? Date.now;
    this.#onNoAccess = opts.onNoAccess ?? (() => {});
  }

  async enrichBatch(events: readonly KecEvent[]): Promise<EnrichedEvent[]> {
    if (this.#byCluster.size === 1) {
      const [[name, only]] = [...this.#byCluster] as [[string, BatchEnricher]];
      if (events.every((e) => e.cluster === name)) return only.enrichBatch(events);
    }
    const groups = new Map<string, number[]>();
    for (let i = 0; i < events.length; i++) {
      const c = (events[i] as KecEvent).cluster;
      const g = groups.get(c);
      if (g) g.push(i);
      else groups.set(c, [i]);
    }
    const out: EnrichedEvent[] = new Array(events.length);
    await Promise.all(
      [...groups].map(async ([cluster, idx]) => {
        const target = this.#byCluster.get(cluster);
        if (!target) {
          this.#onNoAccess(cluster);
          const at = formatMicroTime(new Date(this.#now()));
          for (const i of idx) out[i] = unavailable(events[i] as KecEvent, at, 'no-cluster-access');
          return;
        }
        const part = await target.enrichBatch(idx.map((i) => events[i] as KecEvent));
        idx.forEach((i, j) => {
          out[i] = part[j] as EnrichedEvent;
        });
      }),
    );
    return out;
  }
}
