// @kec/api: kec's HTTP API (events, timelines, incidents, top, series, live watch, read-only SQL).
// The route schemas are the contract the `kec` CLI builds against.

export type { AppDeps, Subscription } from './app.ts';
export { buildApp, status } from './app.ts';
export type { Scope, TokenEntry } from './auth.ts';
export { newToken, parseTokenLines, SCOPES, sha256Hex, TokenStore } from './auth.ts';
export type { ApiConfig } from './config.ts';
export { apiConfig } from './config.ts';
export { ApiError, BadRequestError, SqlRefusedError, UnavailableError } from './errors.ts';
export { parseFilters } from './filters.ts';
export type {
  EventItem,
  EventPage,
  EventsQuery,
  Incident,
  IncidentDetail,
  IncidentList,
  IncidentsQuery,
  ObjectRef,
  Series,
  SeriesPoint,
  SeriesQuery,
  SqlRequest,
  SqlResponse,
  Status,
  StatusReason,
  Timeline,
  TimelineBucket,
  TimelineEntry,
  TimelineParams,
  TimelineQuery,
  Top,
  TopBy,
  TopItem,
  TopQuery,
  WatchError,
  WatchEvent,
  WatchIncident,
  WatchQuery,
} from './schemas.ts';
export {
  EventFilterQueryProperties,
  EventItemSchema,
  EventPageSchema,
  EventsQuerySchema,
  IncidentDetailQuerySchema,
  IncidentDetailSchema,
  IncidentListSchema,
  IncidentParamsSchema,
  IncidentSchema,
  IncidentsQuerySchema,
  ObjectRefSchema,
  ResolvedRangeSchema,
  SeriesGroupBySchema,
  SeriesPointSchema,
  SeriesQuerySchema,
  SeriesSchema,
  SeveritySchema,
  SqlRequestSchema,
  SqlResponseSchema,
  StatusReasonSchema,
  StatusSchema,
  TimeBoundSchema,
  TimelineBucketSchema,
  TimelineEntrySchema,
  TimelineParamsSchema,
  TimelineQuerySchema,
  TimelineSchema,
  TimestampSchema,
  TopBySchema,
  TopItemSchema,
  TopQuerySchema,
  TopSchema,
  WatchErrorSchema,
  WatchEventSchema,
  WatchIncidentSchema,
  WatchQuerySchema,
  WorkloadRefSchema,
} from './schemas.ts';
export type { Requirement } from './selector.ts';
export { matchesSelector, parseSelector } from './selector.ts';
export { apiService } from './service.ts';
export type { SqlLimits } from './sql.ts';
export { checkAst, routeSettings, runSql, sqlSettings } from './sql.ts';
export { durationMs, parseTimeBound } from './time.ts';
