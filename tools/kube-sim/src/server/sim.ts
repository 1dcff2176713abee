// startKubeSim: the in-process handle (test API) around the store, the resource API and the HTTP server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseRoute, ResourceApi, renderingFromAccept, verbOf } from './api.ts';
import { errors } from './errors.ts';
import type { StoredObject } from './resources.ts';
import { type DenyRule, type RequestLogEntry, SimServer } from './server.ts';
import { Store } from './store.ts';

export interface KubeSimOptions {
  port?: number;
  host?: string;
  /** Bearer token accepted from the start; random when absent. */
  token?: string;
  /** User name the token authenticates as (appears in 403 messages). */
  user?: string;
  /** Event TTL (E6), default 3600. */
  eventTtlSeconds?: number;
  /** Watch/MVCC history kept (L11), default 300 s. */
  historyWindowSeconds?: number;
  /** Cap on history entries, default 500000. */
  historyMaxEvents?: number;
  /** Continue tokens older than this get 410 Expired (L8), default 300. */
  continueTtlSeconds?: number;
  /** Serve HTTPS with a self-signed CA written into the kubeconfig. */
  tls?: boolean;
  /** Where the kubeconfig (and TLS material) is written; default a new temp dir. */
  dataDir?: string;
  /** Watch deadline without timeoutSeconds is uniform in [min, 2*min) (L13), default 1800. */
  minRequestTimeoutSeconds?: number;
  /** Periodic bookmark interval for cached (non-event) kinds when allowWatchBookmarks=true, default 60; 0 disables. */
  bookmarkIntervalSeconds?: number;
  /** Refuse namespaced writes into a missing namespace (NamespaceLifecycle admission), default false. */
  strictNamespaces?: boolean;
  /**
   * Requests without an Authorization header are served as this user instead of 401 (like --anonymous-auth with
   * a permissive binding). kubectl never sends a token over plain http://, so use this or `tls: true` for kubectl.
   */
  anonymousUser?: string;
  /** RBAC deny rules (A3). */
  deny?: DenyRule[];
  /** First resourceVersion, default 1000. */
  initialResourceVersion?: number;
  /** TTL sweep interval, default 250 ms. */
  sweepIntervalMs?: number;
  /** Create default, kube-system, kube-public, kube-node-lease at start, default true. */
  defaultNamespaces?: boolean;
}

export interface SimClock {
  now(): number;
  readonly offsetMs: number;
  setOffset(ms: number): void;
  advance(ms: number): void;
}

export interface SimStats {
  resourceVersion: string;
  compactedResourceVersion: string;
  /** `${verb} ${resource}` -> count, resource as `pods` or `replicasets.apps`; discovery as `get /api/v1`. */
  requests: Record<string, number>;
  /** Objects per storage table (`events`, `pods`, `leases.coordination.k8s.io`, ...). */
  objects: Record<string, number>;
  openWatches: number;
  /** Process memory of the simulator, bytes. */
  memory: { rss: number; heapUsed: number };
}

/** Direct store access for test setup; runs the same validation and semantics as HTTP (no auth, faults or stats). */
export interface InProcessStore {
  create(path: string, obj: StoredObject): Promise<StoredObject>;
  get(path: string): Promise<StoredObject>;
  list(path: string): Promise<StoredObject>;
  update(path: string, obj: StoredObject): Promise<StoredObject>;
  patch(path: string, patch: unknown, contentType?: string): Promise<StoredObject>;
  delete(path: string): Promise<StoredObject>;
}

export interface SimFaults {
  /** End every open watch cleanly (chunked EOF). */
  closeWatches(): void;
  /** Drop all history (resume impossible) and end every watch with no ERROR frame. */
  compactSilently(): void;
  /** The next n watch requests get 200 + ERROR 410 + EOF (mode 'http': an HTTP 410). */
  failNextWatches(n: number, mode?: 'error' | 'http'): void;
  /** Destroy every socket, watches included. */
  resetConnections(): void;
  setLatency(ms: number): void;
  /** Fail this fraction of API requests with 500 or 429 (+ Retry-After). */
  failFraction(fraction: number, status?: 500 | 429, retryAfterSeconds?: number): void;
  /** Every token issued so far now gets 401. */
  expireTokens(): void;
  /** Issues a new token, rewrites the kubeconfig with it and returns it (old tokens stay valid until expired). */
  rotateToken(): string;
  setDeny(rules: DenyRule[]): void;
  /** While on, every new watch is ended cleanly right after it starts (B3: tests client reconnect backoff). */
  closeWatchesOnStart(on: boolean): void;
  /** While on, a watch from a compacted RV gets 200 + clean EOF with no ERROR 410 (k/k PR #137307). */
  staleWatchesCloseSilently(on: boolean): void;
  /** Clears latency, failure fraction, pending watch failures, closeWatchesOnStart, staleWatchesCloseSilently and deny rules. */
  reset(): void;
}

export interface KubeSim {
  url: string;
  token: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** CA certificate (PEM) when tls is on. */
  caPem?: string;
  store: InProcessStore;
  faults: SimFaults;
  clock: SimClock;
  /** Runs the event TTL sweep now on the simulator clock; `all` expires every event. Returns events deleted. */
  expireEventsNow(opts?: { all?: boolean }): number;
  /** Current global resourceVersion. */
  resourceVersion(): string;
  stats(): SimStats;
  resetStats(): void;
  /** The last 2000 API requests (time on the simulator clock, verb, resource, path, query), oldest first. */
  requestLog(): RequestLogEntry[];
  close(): Promise<void>;
}

function makeTls(dir: string): { key: string; cert: string; ca: string; how: string } {
  // A CA and a server certificate for 127.0.0.1/localhost, made with the system openssl.
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '365',
    '-subj',
    '/CN=kube-sim-ca',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-sim']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '365',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    how: 'openssl',
  };
}

function kubeconfigYaml(url: string, token: string, caPem?: string): string {
  const cluster = caPem
    ? `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}\n`
    : '    insecure-skip-tls-verify: true\n';
  return `apiVersion: v1
kind: Config
clusters:
- name: kube-sim
  cluster:
    server: ${url}
${cluster}users:
- name: kube-sim
  user:
    token: ${token}
contexts:
- name: kube-sim
  context:
    cluster: kube-sim
    user: kube-sim
    namespace: default
current-context: kube-sim
`;
}

export async function startKubeSim(options: KubeSimOptions = {}): Promise<KubeSim> {
  let offsetMs = 0;
  const clock: SimClock = {
    now: () => Date.now() + offsetMs,
    get offsetMs() {
      return offsetMs;
    },
    setOffset(ms: number) {
      offsetMs = ms;
    },
    advance(ms: number) {
      offsetMs += ms;
    },
  };
  const store = new Store({
    clock,
    historyWindowSeconds: options.historyWindowSeconds ?? 300,
    historyMaxEvents: options.historyMaxEvents ?? 500_000,
    eventTtlSeconds: options.eventTtlSeconds ?? 3600,
    initialResourceVersion: options.initialResourceVersion ?? 1000,
  });
  const api = new ResourceApi({
    store,
    now: clock.now,
    continueTtlSeconds: options.continueTtlSeconds ?? 300,
    strictNamespaces: options.strictNamespaces ?? false,
  });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kube-sim-'));
  const tls = options.tls ? makeTls(dataDir) : undefined;
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  let url = '';
  let currentToken = '';
  const writeKubeconfig = () =>
    writeFileSync(kubeconfigPath, kubeconfigYaml(url, currentToken, tls?.ca), { mode: 0o600 });
  const expireEventsNow = (all: boolean) => store.sweepExpiredEvents(all);
  let server: SimServer;
  const stats = (): SimStats => ({
    resourceVersion: String(store.rv),
    compactedResourceVersion: String(store.compactedRv),
    requests: Object.fromEntries(server.counts),
    objects: store.counts(),
    openWatches: server.openWatches,
    memory: { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed },
  });
  server = new SimServer(
    {
      store,
      api,
      now: clock.now,
      setClockOffset: (ms) => clock.setOffset(ms),
      minRequestTimeoutSeconds: options.minRequestTimeoutSeconds ?? 1800,
      bookmarkIntervalSeconds: options.bookmarkIntervalSeconds ?? 60,
      onTokenRotated: (t) => {
        currentToken = t;
        writeKubeconfig();
      },
      expireEventsNow,
      stats,
      gitVersion: 'v1.34.0-kube-sim',
    },
    options.user ?? 'system:serviceaccount:kec:kec',
    tls,
  );
  server.deny = options.deny ?? [];
  server.anonymousUser = options.anonymousUser;
  currentToken = options.token ?? server.newToken();
  if (options.token) server.tokens.set(options.token, { user: server.defaultUser });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  writeKubeconfig();

  const sweep = setInterval(() => store.sweepExpiredEvents(false), options.sweepIntervalMs ?? 250);
  sweep.unref();

  const call = (method: string, path: string, body?: unknown, contentType = ''): StoredObject => {
    const u = new URL(path, 'http://x');
    const route = parseRoute(u.pathname);
    if (!route) throw errors.pathNotFound();
    const verb = verbOf(method, route, u.searchParams);
    const as = renderingFromAccept(undefined);
    let out: { json: string };
    switch (verb) {
      case 'get':
        out = api.get(route, as);
        break;
      case 'list':
        out = api.list(route, u.searchParams, as);
        break;
      case 'create':
        out = api.create(route, body, u.searchParams, as);
        break;
      case 'update':
        out = api.update(route, body, u.searchParams, as);
        break;
      case 'patch':
        out = api.patch(route, body, contentType, u.searchParams, as);
        break;
      case 'delete':
        out = api.delete(route, body, u.searchParams, as);
        break;
      default:
        throw errors.methodNotAllowed();
    }
    return JSON.parse(out.json);
  };

  if (options.defaultNamespaces ?? true) {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    }
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);

  const sim: KubeSim = {
    url,
    get token() {
      return currentToken;
    },
    kubeconfigPath,
    kubeConfig,
    caPem: tls?.ca,
    store: {
      create: async (path, obj) => call('POST', path, obj),
      get: async (path) => call('GET', path),
      list: async (path) => call('GET', path),
      update: async (path, obj) => call('PUT', path, obj),
      patch: async (path, patch, contentType = 'application/merge-patch+json') =>
        call('PATCH', path, patch, contentType),
      delete: async (path) => call('DELETE', path),
    },
    faults: {
      closeWatches: () => server.closeWatches(),
      compactSilently: () => {
        store.compactAll();
        server.closeWatches();
      },
      failNextWatches: (n, mode = 'error') => {
        server.faults.failNextWatches = n;
        server.faults.failNextWatchesMode = mode;
      },
      resetConnections: () => server.resetConnections(),
      setLatency: (ms) => {
        server.faults.latencyMs = ms;
      },
      failFraction: (fraction, status = 500, retryAfterSeconds = 1) => {
        server.faults.failFraction = fraction;
        server.faults.failStatus = status;
        server.faults.retryAfterSeconds = retryAfterSeconds;
      },
      expireTokens: () => server.expireTokens(),
      rotateToken: () => {
        currentToken = server.newToken();
        writeKubeconfig();
        return currentToken;
      },
      setDeny: (rules) => {
        server.deny = rules;
      },
      closeWatchesOnStart: (on) => {
        server.faults.closeWatchesOnStart = on;
      },
      staleWatchesCloseSilently: (on) => {
        server.faults.staleWatchesCloseSilently = on;
      },
      reset: () => server.resetFaults(),
    },
    clock,
    expireEventsNow: (opts) => expireEventsNow(opts?.all ?? false),
    resourceVersion: () => String(store.rv),
    stats,
    resetStats: () => {
      server.counts.clear();
      server.requestLog.length = 0;
    },
    requestLog: () => [...server.requestLog],
    close: async () => {
      clearInterval(sweep);
      server.resetConnections();
      await new Promise<void>((resolve) => server.server.close(() => resolve()));
    },
  };
  return sim;
}
