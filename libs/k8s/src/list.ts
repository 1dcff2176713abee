// Paginated LIST: limit + continue, never one unbounded LIST (api-concepts "Retrieving large results sets in chunks").
import type { KubeClient } from './client.ts';
import { KubeApiError } from './errors.ts';

export interface ListOptions {
  /** Page size; default 500 (client-go's pager default). */
  limit?: number;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** Per-page request timeout in ms; default 60 s. */
  timeoutMs?: number;
  /** How many times an expired continue token may restart the list; default 5. */
  maxRestarts?: number;
}

export interface ListPage<T = Record<string, unknown>> {
  items: T[];
  /** The list's resourceVersion: the same snapshot for every page of one pass. */
  resourceVersion: string;
  /** True on the first page of a pass (the first pass, or a restart after an expired continue token). */
  first: boolean;
  /** True on the last page of a pass. */
  last: boolean;
  /** True when this pass restarted after a 410 on a continue token: earlier pages may be repeated. */
  restarted: boolean;
}

interface ListBody<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

/**
 * Lists a collection page by page. A 410 Expired on a continue token restarts the list from scratch
 * (the consistent snapshot is gone); pages of the new pass carry `restarted: true`.
 */
export async function* paginatedList<T = Record<string, unknown>>(
  client: KubeClient,
  path: string,
  opts: ListOptions = {},
): AsyncGenerator<ListPage<T>> {
  const limit = opts.limit ?? 500;
  const maxRestarts = opts.maxRestarts ?? 5;
  let restarts = 0;
  let cont: string | undefined;
  let first = true;
  let restarted = false;
  for (;;) {
    let body: ListBody<T>;
    try {
      const res = await client.request<ListBody<T>>('GET', path, {
        query: { limit, continue: cont, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
        signal: opts.signal,
        timeoutMs: opts.timeoutMs ?? 60_000,
      });
      body = res.body ?? {};
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 410 && cont !== undefined && restarts < maxRestarts) {
        restarts++;
        cont = undefined;
        first = true;
        restarted = true;
        continue;
      }
      throw err;
    }
    const next = body.metadata?.continue || undefined;
    yield {
      items: body.items ?? [],
      resourceVersion: body.metadata?.resourceVersion ?? '',
      first,
      last: next === undefined,
      restarted,
    };
    if (next === undefined) return;
    cont = next;
    first = false;
  }
}

/** The collection's current resourceVersion, from a one-item LIST (cheap). */
export async function currentResourceVersion(
  client: KubeClient,
  path: string,
  opts: { signal?: AbortSignal; fieldSelector?: string; labelSelector?: string; resourceVersion?: string } = {},
): Promise<string> {
  const res = await client.request<ListBody<unknown>>('GET', path, {
    query: {
      limit: 1,
      resourceVersion: opts.resourceVersion,
      fieldSelector: opts.fieldSelector,
      labelSelector: opts.labelSelector,
    },
    signal: opts.signal,
    timeoutMs: 15_000,
  });
  return res.body?.metadata?.resourceVersion ?? '';
}
