// The HTTP app (fastify): routes under /api/v1, TypeBox schemas for every input and output, OpenAPI 3.1,
// bearer-token auth with scopes, Kubernetes-style Status errors.
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { canonicalKind } from '@kec/model';
import { type Store, StoreError, StoreUnavailableError } from '@kec/store';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import Type from 'typebox';
import { allowed, type Scope, type TokenStore } from './auth.ts';
import { ApiError, BadRequestError, UnavailableError } from './errors.ts';
import { filtersDigest, parseFilters } from './filters.ts';
import {
  type EventCursor,
  getIncident,
  incidentMembers,
  listEvents,
  listIncidents,
  minuteRange,
  series,
  timeline,
  timelineStart,
  top,
} from './queries.ts';
import {
  EventPageSchema,
  EventsQuerySchema,
  IncidentDetailQuerySchema,
  IncidentDetailSchema,
  IncidentListSchema,
  IncidentParamsSchema,
  IncidentsQuerySchema,
  SeriesQuerySchema,
  SeriesSchema,
  SqlRequestSchema,
  SqlResponseSchema,
  type Status,
  type StatusReason,
  StatusSchema,
  TimelineParamsSchema,
  TimelineQuerySchema,
  TimelineSchema,
  TopQuerySchema,
  TopSchema,
  WatchQuerySchema,
} from './schemas.ts';
import { runSql, sqlError } from './sql.ts';
import { iso, resolveRange } from './time.ts';
import { matchesIncident, matchesItem, watchEventOf, watchIncidentOf } from './watch.ts';

export interface Subscription {
  unsubscribe(): void;
}

export interface AppDeps {
  logger: Logger;
  /** The store of the routes (read-only connection); throws UnavailableError while it is not open. */
  store: () => Store;
  /** The store of POST /sql (read-only connection with the SQL limits). */
  sqlStore: () => Store;
  tokens: TokenStore;
  sqlMaxRows: number;
  maxBodyBytes: number;
  /** Subscribes to a NATS subject (wildcards allowed); throws UnavailableError when NATS is not connected. */
  subscribe?: (subject: string, onMessage: (data: Uint8Array) => void) => Subscription;
  subjectRoot: string;
  https?: { cert: Buffer; key: Buffer };
  /** Clock (tests). */
  now?: () => number;
  /** SSE keep-alive comment interval (default 15 s). */
  keepAliveMs?: number;
  /** Called once per answered request (metrics). */
  onResponse?: (route: string, method: string, statusCode: number, seconds: number) => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: Scope;
  }
  interface FastifyRequest {
    tokenName?: string;
  }
}

const HTTP_REASON: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'RequestEntityTooLarge',
  415: 'BadRequest',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function status(code: number, message: string, reason?: StatusReason, details?: Status['details']): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? HTTP_REASON[code] ?? 'InternalError',
    code,
    ...(details ? { details } : {}),
  };
}

const ERRORS = {
  400: StatusSchema,
  401: StatusSchema,
  403: StatusSchema,
  404: StatusSchema,
  503: StatusSchema,
};

/** Store errors of the routes (not of user SQL) -> API errors. */
function routeError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreUnavailableError) return new UnavailableError(`store unavailable: ${err.message}`);
  if (err instanceof StoreError && (err.code === 60 || err.code === 81)) {
    return new UnavailableError('the store has no kec schema yet (the writer or `kec migrate` creates it)');
  }
  if (err instanceof StoreError && err.code === 159) return sqlError(err);
  return err;
}

interface CursorState {
  v: 1;
  pin: number;
  since: number;
  until: number;
  d: string;
  at: EventCursor;
}

function encodeCursor(c: CursorState): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string, digest: string): CursorState {
  let c: CursorState;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw new BadRequestError('cursor is not one this API issued', { field: 'cursor' });
  }
  if (
    c?.v !== 1 ||
    typeof c.pin !== 'number' ||
    typeof c.since !== 'number' ||
    typeof c.until !== 'number' ||
    typeof c.at?.lastSeen !== 'string' ||
    typeof c.at?.cluster !== 'string' ||
    typeof c.at?.uid !== 'string'
  ) {
    throw new BadRequestError('cursor is not one this API issued', { field: 'cursor' });
  }
  if (c.d !== digest) {
    throw new BadRequestError('cursor belongs to a listing with other parameters', { field: 'cursor' });
  }
  return c;
}

/** Bucket width for a range when none is asked for. */
function autoStep(ms: number): string {
  if (ms <= 2 * 3_600e3) return '1m';
  if (ms <= 12 * 3_600e3) return '5m';
  if (ms <= 2 * 86_400e3) return '15m';
  if (ms <= 14 * 86_400e3) return '1h';
  return '1d';
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    loggerInstance: deps.logger.child(
      { component: 'http' },
      { redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' } },
    ) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxBodyBytes,
    ...(deps.https ? { https: deps.https } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kube-event-center API',
        version: 'v1',
        description:
          'Kubernetes Events with history: listings like kubectl get events, object timelines, incidents, top, series, a live stream and read-only SQL. Errors are Kubernetes Status objects.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const scope = req.routeOptions.config.scope;
    if (!scope) return;
    const header = req.headers.authorization;
    let entry = undefined as ReturnType<TokenStore['lookup']>;
    if (header === undefined) {
      entry = deps.tokens.anonymous;
      if (!entry) {
        reply.header('www-authenticate', 'Bearer realm="kec"');
        return reply.code(401).send(status(401, 'Unauthorized: a bearer token is required'));
      }
    } else {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      entry = m ? deps.tokens.lookup(m[1] as string) : undefined;
      if (!entry) {
        reply.header('www-authenticate', 'Bearer realm="kec", error="invalid_token"');
        return reply.code(401).send(status(401, 'Unauthorized: the bearer token is not valid'));
      }
    }
    req.tokenName = entry.name;
    if (!allowed(entry, scope)) {
      return reply
        .code(403)
        .send(
          status(
            403,
            `forbidden: token "${entry.name}" lacks the scope "${scope}" needed by ${req.method} ${req.routeOptions.url}`,
          ),
        );
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.onResponse?.(req.routeOptions.url ?? 'unknown', req.method, reply.statusCode, reply.elapsedTime / 1000);
    req.log.debug(
      {
        method: req.method,
        route: req.routeOptions.url,
        status: reply.statusCode,
        ms: reply.elapsedTime,
        token: req.tokenName,
      },
      'request',
    );
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(status(404, `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    const e = routeError(err);
    if (e instanceof ApiError) {
      const details: Status['details'] = {
        ...(e.causes ? { causes: e.causes } : {}),
        ...(e.clickhouseCode !== undefined ? { clickhouseCode: e.clickhouseCode } : {}),
      };
      return reply
        .code(e.statusCode)
        .send(status(e.statusCode, e.message, e.reason, Object.keys(details).length ? details : undefined));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const causes = fe.validation.map((v) => ({
        field: `${fe.validationContext ?? ''}${v.instancePath || ''}${
          (v.params as { missingProperty?: string; additionalProperty?: string }).missingProperty
            ? `/${(v.params as { missingProperty: string }).missingProperty}`
            : (v.params as { additionalProperty?: string }).additionalProperty
              ? `/${(v.params as { additionalProperty: string }).additionalProperty}`
              : ''
        }`,
        reason: 'FieldValueInvalid',
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send(status(400, `invalid request: ${fe.message}`, 'BadRequest', { causes }));
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send(status(fe.statusCode, fe.message));
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(status(500, 'internal error', 'InternalError'));
  });

  const v1 = '/api/v1';

  app.get(`${v1}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());

  // ---- events
  app.get(
    `${v1}/events`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Events in their latest state, newest first by last occurrence, with cursor pagination',
        description:
          'The walk of pages is pinned at the first page: later pages keep its `range` (until = the moment of the first page) and continue after the keyset (lastSeen, cluster, uid) of the previous page, so no Event is listed twice and none that stays unchanged is skipped while rows are written. Events that occur during the walk leave the pinned range (their lastSeen moves past it) and show in the next listing.',
        tags: ['events'],
        querystring: EventsQuerySchema,
        response: { 200: EventPageSchema, ...ERRORS },
      },
    },
    async (req) => {
      const q = req.query;
      const f = parseFilters(q);
      const digest = filtersDigest(f);
      const limit = q.limit ?? 100;
      let pin: number;
      let range: { since: number; until: number };
      let after: EventCursor | undefined;
      if (q.cursor) {
        const c = decodeCursor(q.cursor, digest);
        pin = c.pin;
        range = { since: c.since, until: c.until };
        after = c.at;
      } else {
        pin = now();
        range = resolveRange(q, pin, 0);
      }
      const { items, more } = await listEvents(deps.store(), f, { ...range, limit, ...(after ? { after } : {}) });
      const last = items[items.length - 1];
      const nextCursor =
        more && last
          ? encodeCursor({
              v: 1,
              pin,
              since: range.since,
              until: range.until,
              d: digest,
              at: { lastSeen: last.lastSeen, cluster: last.cluster, uid: last.uid },
            })
          : null;
      return {
        kind: 'EventList' as const,
        apiVersion: 'kec.io/v1' as const,
        range: { since: iso(range.since), until: iso(range.until) },
        items,
        nextCursor,
      };
    },
  );

  // ---- timeline
  app.get(
    `${v1}/timeline/:kind/:namespace/:name`,
    {
      config: { scope: 'read' },
      schema: {
        summary: "An object's events over its history (every uid the name had) and, for a workload, its pods'",
        description: 'Use `_` as the namespace of a cluster-scoped object (a Node).',
        tags: ['events'],
        params: TimelineParamsSchema,
        querystring: TimelineQuerySchema,
        response: { 200: TimelineSchema, ...ERRORS },
      },
    },
    async (req) => {
      const kind = canonicalKind(req.params.kind);
      const namespace = req.params.namespace === '_' ? '' : req.params.namespace;
      const target = {
        kind,
        namespace,
        name: req.params.name,
        ...(req.query.cluster ? { cluster: req.query.cluster } : {}),
      };
      const range = resolveRange(req.query, now(), 0);
      if (range.since === 0) {
        const start = await timelineStart(deps.store(), target);
        if (start !== undefined && start < range.until) range.since = start;
      }
      const step = req.query.step ?? autoStep(range.until - (range.since || range.until - 400 * 86_400e3));
      const t = await timeline(deps.store(), target, { ...range, step, limit: req.query.limit ?? 1000 });
      return {
        kind: 'Timeline' as const,
        apiVersion: 'kec.io/v1' as const,
        object: { kind, namespace, name: req.params.name },
        range: { since: iso(range.since), until: iso(range.until) },
        step,
        ...t,
      };
    },
  );

  // ---- incidents
  app.get(
    `${v1}/incidents`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Incidents active in the range, most recently seen first',
        tags: ['incidents'],
        querystring: IncidentsQuerySchema,
        response: { 200: IncidentListSchema, ...ERRORS },
      },
    },
    async (req) => {
      const q = req.query;
      const range = resolveRange(q, now(), 0);
      const f = parseFilters({ ...(q.severity ? { severity: q.severity } : {}) });
      const items = await listIncidents(
        deps.store(),
        {
          ...(q.cluster ? { cluster: q.cluster } : {}),
          ...(q.namespace ? { namespace: q.namespace } : {}),
          ...(q.state ? { state: q.state } : {}),
          ...(f.severities ? { severities: f.severities } : {}),
          ...(q.category ? { categories: q.category.split(',').filter((c) => c !== '') } : {}),
        },
        { ...range, limit: q.limit ?? 100 },
      );
      return {
        kind: 'IncidentList' as const,
        apiVersion: 'kec.io/v1' as const,
        range: { since: iso(range.since), until: iso(range.until) },
        items,
      };
    },
  );

  app.get(
    `${v1}/incidents/:id`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One incident: root cause and why, affected objects, member events in time order',
        tags: ['incidents'],
        params: IncidentParamsSchema,
        querystring: IncidentDetailQuerySchema,
        response: { 200: IncidentDetailSchema, ...ERRORS },
      },
    },
    async (req) => {
      const store = deps.store();
      const incident = await getIncident(store, req.params.id, req.query.cluster);
      if (!incident) throw new ApiError(404, 'NotFound', `incident "${req.params.id}" not found`);
      const events = await incidentMembers(store, incident, 1000);
      return { kind: 'Incident' as const, apiVersion: 'kec.io/v1' as const, incident, events };
    },
  );

  // ---- top and series
  app.get(
    `${v1}/top`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Top reasons, workloads, nodes, namespaces or message fingerprints by new occurrences',
        description: 'The range is aligned to whole minutes. Default since: 1d.',
        tags: ['stats'],
        querystring: TopQuerySchema,
        response: { 200: TopSchema, ...ERRORS },
      },
    },
    async (req) => {
      const f = parseFilters(req.query);
      const range = minuteRange(...rangeArgs(resolveRange(req.query, now(), 86_400e3)));
      const items = await top(deps.store(), req.query.by, f, { ...range, limit: req.query.limit ?? 20 });
      return {
        kind: 'Top' as const,
        apiVersion: 'kec.io/v1' as const,
        by: req.query.by,
        range: { since: iso(range.since), until: iso(range.until) },
        items,
      };
    },
  );

  app.get(
    `${v1}/series`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'New occurrences per time step, optionally split by one dimension',
        description: 'The range is aligned to whole minutes. Default since: 1d, step: 1h.',
        tags: ['stats'],
        querystring: SeriesQuerySchema,
        response: { 200: SeriesSchema, ...ERRORS },
      },
    },
    async (req) => {
      const f = parseFilters(req.query);
      const range = minuteRange(...rangeArgs(resolveRange(req.query, now(), 86_400e3)));
      const step = req.query.step ?? '1h';
      const points = await series(deps.store(), f, {
        ...range,
        step,
        ...(req.query.groupBy ? { groupBy: req.query.groupBy } : {}),
      });
      return {
        kind: 'Series' as const,
        apiVersion: 'kec.io/v1' as const,
        step,
        groupBy: req.query.groupBy ?? null,
        range: { since: iso(range.since), until: iso(range.until) },
        points,
      };
    },
  );

  // ---- watch (SSE)
  // Open streams, ended when the app starts closing: preClose, since close() waits for open connections before its
  // onClose hooks run; hooks cannot be added once the app runs, so one hook serves every stream.
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of openStreams) close();
  });
  app.get(
    `${v1}/watch`,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Live stream (Server-Sent Events) of new event observations and incident changes',
        description:
          'Frames: `event: event` with a WatchEvent, `event: incident` with a WatchIncident, `event: error` with a WatchError (the stream then ends); a `: keepalive` comment every 15 s.',
        tags: ['events'],
        querystring: WatchQuerySchema,
        produces: ['text/event-stream'],
        response: { ...ERRORS },
      },
    },
    async (req, reply) => {
      const f = parseFilters(req.query);
      const withIncidents = req.query.incidents ?? true;
      if (!deps.subscribe) throw new UnavailableError('the live stream needs NATS, which this API is not connected to');
      const subs: Subscription[] = [];
      const send = (event: string, data: unknown) => {
        reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const decode = (bytes: Uint8Array): unknown => {
        try {
          return JSON.parse(Buffer.from(bytes).toString('utf8'));
        } catch {
          return undefined;
        }
      };
      subs.push(
        deps.subscribe(`${deps.subjectRoot}.events.>`, (bytes) => {
          const frame = watchEventOf(decode(bytes));
          if (frame && matchesItem(f, frame.event)) send('event', frame);
        }),
      );
      if (withIncidents) {
        subs.push(
          deps.subscribe(`${deps.subjectRoot}.incidents.>`, (bytes) => {
            const frame = watchIncidentOf(decode(bytes));
            if (frame && matchesIncident(f, frame.incident)) send('incident', frame);
          }),
        );
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write(': watching\n\n');
      const keepAlive = setInterval(() => reply.raw.write(': keepalive\n\n'), deps.keepAliveMs ?? 15_000);
      const end = () => {
        clearInterval(keepAlive);
        for (const s of subs) s.unsubscribe();
        openStreams.delete(close);
      };
      const close = () => {
        end();
        reply.raw.end();
      };
      openStreams.add(close);
      req.raw.on('close', end);
    },
  );

  // ---- SQL
  app.post(
    `${v1}/sql`,
    {
      config: { scope: 'sql' },
      schema: {
        summary: 'One read-only SQL statement, enforced by the engine (readonly=1 and limits)',
        description:
          'Body: JSON `{"query": "...", "params": {"name": "value"}}` (or the statement as text/plain). Statements: SELECT/WITH, DESCRIBE, SHOW TABLES/DATABASES/COLUMNS/CREATE TABLE, EXISTS, EXPLAIN; tables of the kec database only.',
        tags: ['sql'],
        body: Type.Union([SqlRequestSchema, Type.String({ minLength: 1 })]),
        response: { 200: SqlResponseSchema, ...ERRORS, 504: StatusSchema },
      },
    },
    async (req) => {
      const body = typeof req.body === 'string' ? { query: req.body } : req.body;
      const t0 = performance.now();
      const r = await runSql(deps.sqlStore(), body.query, body.params ?? {}, deps.sqlMaxRows);
      return { ...r, statistics: { elapsedMs: Math.round(performance.now() - t0), rows: r.rows.length } };
    },
  );

  return app as unknown as FastifyInstance;
}

const rangeArgs = (r: { since: number; until: number }): [number, number] => [r.since, r.until];
