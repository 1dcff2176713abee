// The gap record (`kec.gap/v1`): a window of resourceVersions in which observations may have been missed.
// Published by the watcher on <root>.gaps.<cluster>, stored by the writer; both import it from here.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

export const GAP_SCHEMA = 'kec.gap/v1';

export const GapRecordSchema = Type.Object(
  {
    schema: Type.Literal(GAP_SCHEMA),
    cluster: Type.String({ minLength: 1 }),
    /** Last resourceVersion up to which everything was captured (exclusive lower bound of the gap). */
    fromResourceVersion: Type.String(),
    /** The relist's resourceVersion: everything after it is captured again (inclusive upper bound). */
    toResourceVersion: Type.String(),
    /** Wall time of the last observation before the gap (RFC 3339). */
    fromTime: Type.String(),
    /** Wall time the relist completed (RFC 3339). */
    toTime: Type.String(),
    /** expired: ERROR/HTTP 410 on a watch; silent-close: a watch closed without one and its RV was compacted. */
    reason: Type.Union([Type.Literal('expired'), Type.Literal('silent-close')]),
    /** Identity of the watcher that detected it. */
    detectedBy: Type.String(),
  },
  { $id: GAP_SCHEMA, additionalProperties: false },
);

export type GapRecord = Static<typeof GapRecordSchema>;
export const GapRecordValidator = Compile(GapRecordSchema);

/** Dedup id of a gap record: the same gap detected twice (e.g. by two leaders) is stored once. */
export function gapMsgId(g: Pick<GapRecord, 'cluster' | 'fromResourceVersion' | 'toResourceVersion'>): string {
  return `${g.cluster}/gap/${g.fromResourceVersion}-${g.toResourceVersion}`;
}
