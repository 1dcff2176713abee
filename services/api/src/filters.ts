// Query parameters shared by /events, /top, /series and /watch, parsed once into EventFilters.
import { createHash } from 'node:crypto';
import { canonicalKind } from '@kec/model';
import { BadRequestError } from './errors.ts';
import { parseSelector, type Requirement } from './selector.ts';

export interface EventFilters {
  cluster?: string;
  namespace?: string;
  kind?: string;
  name?: string;
  reasons?: string[];
  types?: string[];
  severities?: string[];
  categories?: string[];
  workloadKind?: string;
  workloadName?: string;
  node?: string;
  selector?: Requirement[];
  q?: string;
  incidentId?: string;
}

export interface FilterQuery {
  cluster?: string;
  namespace?: string;
  for?: string;
  reason?: string;
  type?: string;
  severity?: string;
  category?: string;
  workload?: string;
  node?: string;
  labelSelector?: string;
  q?: string;
}

const list = (s: string | undefined): string[] | undefined => {
  if (s === undefined) return undefined;
  const items = s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  return items.length > 0 ? items : undefined;
};

const SEVERITIES = new Set(['info', 'warning', 'error', 'critical']);

export function parseFilters(q: FilterQuery): EventFilters {
  const f: EventFilters = {};
  if (q.cluster) f.cluster = q.cluster;
  if (q.namespace) f.namespace = q.namespace;
  if (q.for) {
    const m = /^([^/]+)\/([^/]+)$/.exec(q.for);
    if (!m) throw new BadRequestError('for must be in Kind/name form (e.g. pod/web-0)', { field: 'for' });
    f.kind = canonicalKind(m[1] as string);
    f.name = m[2] as string;
  }
  const reasons = list(q.reason);
  if (reasons) f.reasons = reasons;
  const types = list(q.type);
  if (types) {
    f.types = types.map((t) => {
      const l = t.toLowerCase();
      if (l !== 'normal' && l !== 'warning') {
        throw new BadRequestError(`valid types are Normal or Warning, got "${t}"`, { field: 'type' });
      }
      return l === 'normal' ? 'Normal' : 'Warning';
    });
  }
  const severities = list(q.severity);
  if (severities) {
    for (const s of severities) {
      if (!SEVERITIES.has(s)) {
        throw new BadRequestError(`valid severities are info, warning, error, critical, got "${s}"`, {
          field: 'severity',
        });
      }
    }
    f.severities = severities;
  }
  const categories = list(q.category);
  if (categories) f.categories = categories;
  if (q.workload) {
    const m = /^([^/]+)\/([^/]+)$/.exec(q.workload);
    if (m) {
      f.workloadKind = canonicalKind(m[1] as string);
      f.workloadName = m[2] as string;
    } else if (q.workload.includes('/')) {
      throw new BadRequestError('workload must be a name or Kind/name', { field: 'workload' });
    } else f.workloadName = q.workload;
  }
  if (q.node) f.node = q.node;
  if (q.labelSelector) f.selector = parseSelector(q.labelSelector);
  if (q.q) f.q = q.q;
  return f;
}

/** A stable digest of the filters, carried in cursors so a cursor is not reused with other parameters. */
export function filtersDigest(f: EventFilters): string {
  const keys = Object.keys(f).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, f[k as keyof EventFilters]])))
    .digest('base64url')
    .slice(0, 16);
}
