// Adapter: a KubeClient that asks for PartialObjectMetadata (metadata-only LIST and WATCH), the way client-go's
// metadata informers do. @kec/k8s's ListWatcher takes a client, not headers, so the Accept header is added here by
// overriding open(), which both request() (LIST pages) and watch() go through.
import { KubeClient, type Query } from '@kec/k8s';

const LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export class MetadataKubeClient extends KubeClient {
  constructor(kc: KubeClient['kubeConfig']) {
    super(kc);
  }

  override open(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): ReturnType<KubeClient['open']> {
    if (method !== 'GET') return super.open(method, path, opts);
    const isWatch = opts.query?.watch === 'true' || opts.query?.watch === true;
    return super.open(method, path, {
      ...opts,
      headers: { Accept: isWatch ? WATCH_ACCEPT : LIST_ACCEPT, ...opts.headers },
    });
  }
}
