// Kubernetes timestamps (apimachinery meta/v1 time.go, micro_time.go):
//   Time      = RFC3339 UTC to the second:           2026-05-01T12:00:00Z
//   MicroTime = RFC3339 UTC, exactly 6 fraction digits: 2026-05-01T12:00:00.123456Z
// Inputs may be strings (any RFC3339 offset, any fraction length) or Date objects (client-node's
// ObjectSerializer turns `date-time` fields into Date, which only holds milliseconds).
import { ModelValidationError } from './errors.ts';

const DATE = '(\\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])';
const CLOCK = '([01]\\d|2[0-3]):([0-5]\\d):([0-5]\\d|60)';

/** Any RFC3339 timestamp (what the wire schemas accept). */
export const RFC3339_PATTERN = `^${DATE}[Tt]${CLOCK}(\\.\\d+)?([Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)$`;
/** A normalized Time: UTC, second precision. */
export const TIME_PATTERN = `^${DATE}T${CLOCK}Z$`;
/** A normalized MicroTime: UTC, exactly 6 fraction digits. */
export const MICRO_TIME_PATTERN = `^${DATE}T${CLOCK}\\.\\d{6}Z$`;
/** Either normalized form (the derived firstTimestamp/lastTimestamp take whichever their source had). */
export const TIMESTAMP_PATTERN = `^${DATE}T${CLOCK}(\\.\\d{6})?Z$`;

const RFC3339_RE = new RegExp(RFC3339_PATTERN);
const TIME_RE = new RegExp(TIME_PATTERN);
const MICRO_TIME_RE = new RegExp(MICRO_TIME_PATTERN);

export type TimestampInput = string | Date;

/** Splits a timestamp into its UTC "YYYY-MM-DDTHH:MM:SS" part and its fraction digits (no dot, may be ""). */
function toUtcParts(value: TimestampInput, path: string): [seconds: string, fraction: string] {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new ModelValidationError(path, 'invalid Date');
    const iso = value.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ for years 0..9999
    if (iso.length !== 24) throw new ModelValidationError(path, `year out of range: ${iso}`);
    return [iso.slice(0, 19), iso.slice(20, 23)];
  }
  if (typeof value !== 'string') throw new ModelValidationError(path, 'timestamp must be a string or a Date');
  const m = RFC3339_RE.exec(value);
  if (m === null) throw new ModelValidationError(path, `not an RFC3339 timestamp: ${JSON.stringify(value)}`);
  const fraction = m[7] === undefined ? '' : m[7].slice(1);
  const zone = m[8]!;
  if (zone === 'Z' || zone === 'z' || zone === '+00:00' || zone === '-00:00') {
    return [`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`, fraction];
  }
  // A numeric offset: shift to UTC. Date.UTC maps years 0..99 to 19xx, so set the year explicitly.
  const sign = zone[0] === '-' ? -1 : 1;
  const offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]) - offsetMinutes, Number(m[6]), 0);
  const iso = d.toISOString();
  if (iso.length !== 24) throw new ModelValidationError(path, `year out of range: ${JSON.stringify(value)}`);
  return [iso.slice(0, 19), fraction];
}

/**
 * Formats a MicroTime: RFC3339 UTC with exactly 6 fraction digits. Longer fractions are truncated (as Go's
 * formatter does), shorter ones are zero-padded; a Date contributes its milliseconds ("…T12:00:00.123000Z").
 */
export function formatMicroTime(value: TimestampInput, path = ''): string {
  if (typeof value === 'string' && MICRO_TIME_RE.test(value)) return value; // already canonical: no allocation
  const [seconds, fraction] = toUtcParts(value, path);
  const six = fraction.length >= 6 ? fraction.slice(0, 6) : fraction.padEnd(6, '0');
  return `${seconds}.${six}Z`;
}

/** Formats a Time: RFC3339 UTC to the second. Fractions are truncated, as metav1.Time.MarshalJSON does. */
export function formatTime(value: TimestampInput, path = ''): string {
  if (typeof value === 'string' && TIME_RE.test(value)) return value;
  return `${toUtcParts(value, path)[0]}Z`;
}

/** True when `value` is a canonical MicroTime string (exactly 6 fraction digits, UTC). */
export function isMicroTime(value: unknown): value is string {
  return typeof value === 'string' && MICRO_TIME_RE.test(value);
}

/** True when `value` is a canonical Time string (second precision, UTC). */
export function isTime(value: unknown): value is string {
  return typeof value === 'string' && TIME_RE.test(value);
}

/**
 * Microseconds since the Unix epoch of a timestamp, for ordering (a Number holds µs exactly until year 2255).
 * Returns NaN for input that is not a timestamp.
 */
export function timestampMicros(value: TimestampInput): number {
  let seconds: string;
  let fraction: string;
  try {
    [seconds, fraction] = toUtcParts(value, '');
  } catch {
    return Number.NaN;
  }
  const ms = Date.parse(`${seconds}Z`);
  const six = fraction.length >= 6 ? fraction.slice(0, 6) : fraction.padEnd(6, '0');
  return ms * 1000 + Number(six);
}

/** The default observedAt clock: wall time (millisecond resolution, so the last 3 of 6 digits are 0). */
export function systemClock(): Date {
  return new Date();
}
