// @kec/alerter: alerts on incidents, event thresholds and patterns; state, routing, grouping, silences, inhibition,
// and the notification outbox (KEC_NOTIFICATIONS, delivered by @kec/notify).
export type { AlerterConfig } from './config.ts';
export { alerterConfig } from './config.ts';
export type { EngineOptions } from './engine.ts';
export { AlertEngine, alertPayload, alertsSubject } from './engine.ts';
export {
  AlerterError,
  AlertsFileError,
  type AlertsProblem,
  formatProblem,
  MatcherError,
  StateConflictError,
} from './errors.ts';
export type { EvalContext, EventFacts } from './evaluate.ts';
export {
  applyIncident,
  applyOccurrences,
  applyPattern,
  eventFacts,
  eventGroup,
  eventSubjectCanMatch,
  expire,
  incidentAlertId,
  matchEvent,
  matchIncident,
  matchPattern,
  notificationAlert,
} from './evaluate.ts';
export type { GroupDecision, GroupView, PlanOptions } from './groups.ts';
export { buildNotification, groupAlerts, inhibited, planGroup, silencedBy, silenceState } from './groups.ts';
export type { EventIn, IncidentIn, PatternIn } from './inputs.ts';
export type { AlertsCheckResult, AlertsConfig, CompiledAlertRule, CompiledInhibit } from './load.ts';
export { checkAlertsFiles, DEFAULT_ALERTS_PATH, loadAlertsConfig } from './load.ts';
export { formatMatcher, matches, matchesAll, parseMatcher, parseMatchers } from './matchers.ts';
export type { AlerterMetrics } from './metrics.ts';
export { alerterMetrics } from './metrics.ts';
export type { CompiledRoute, RouteTiming } from './route.ts';
export { compileRoute, DEFAULT_ROUTE_TIMING, groupKeyOf, groupLabelsOf, routeAlert } from './route.ts';
export type {
  AlertPayload,
  AlertRule,
  AlertState,
  AlertsFile,
  EventRule,
  GroupState,
  Matcher,
  PatternRule,
  RouteSpec,
  Silence,
} from './schema.ts';
export {
  ALERT_SCHEMA,
  ALERTS_API_VERSION,
  AlertPayloadSchema,
  AlertsFileSchema,
  SilenceSchema,
  SilenceValidator,
} from './schema.ts';
export { alerterService, alerterStreamSpecs, alertsConfigFrom } from './service.ts';
export type { NewSilence, SilenceBucket } from './silences.ts';
export { addSilence, expireSilence, formatSilenceMatchers, listSilences } from './silences.ts';
export { AlertStore, type StoreOptions } from './store.ts';
export { durationMs, labelString, renderTemplate, stableId } from './text.ts';
