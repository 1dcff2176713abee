// Scores correlator output against kube-sim's ground truth (kec.groundtruth/v1): per scenario, grouping precision and
// recall (over event objects) and whether the incident's root-cause candidate is the true root cause.
import type { IncidentPayload } from './correlate.ts';

/** The parts of a kec.groundtruth/v1 document the scorer reads. */
export interface GroundTruthLike {
  incidents: {
    id: string;
    scenario: string;
    rootCause: { reason: string; object: { kind: string; namespace?: string; name: string }; eventUid?: string };
    eventUids: string[];
  }[];
  noise?: string[];
}

export interface IncidentScore {
  gt: string;
  scenario: string;
  predicted: string | null;
  precision: number;
  recall: number;
  rootCauseCorrect: boolean;
  /** How the root cause was judged: the event uid, or the object when the truth has no event (OOMKilled). */
  judgedBy: 'event' | 'object';
  expected: string;
  got: string;
}

export interface ScenarioScore {
  scenario: string;
  incidents: number;
  precision: number;
  recall: number;
  rootCauseAccuracy: number;
}

export interface Score {
  incidents: IncidentScore[];
  scenarios: ScenarioScore[];
  /** Share of scenarios (ground-truth incidents) whose true root cause is the incident's first candidate. */
  rootCauseFirst: number;
  /** Noise events (no incident in the truth) that were put into an incident. */
  noiseInIncidents: number;
  noiseEvents: number;
}

const objKey = (o: { kind: string; namespace?: string; name: string }) =>
  o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`;

/**
 * eventIncident: event uid -> the incident id on its latest observation (null: none). incidents: the latest version
 * of every incident.
 */
export function score(
  gt: GroundTruthLike,
  eventIncident: ReadonlyMap<string, string | null>,
  incidents: ReadonlyMap<string, IncidentPayload>,
): Score {
  const members = new Map<string, Set<string>>();
  for (const [uid, id] of eventIncident) {
    if (!id) continue;
    const s = members.get(id) ?? new Set<string>();
    if (s.size === 0) members.set(id, s);
    s.add(uid);
  }
  const out: IncidentScore[] = [];
  for (const g of gt.incidents) {
    const seen = g.eventUids.filter((u) => eventIncident.has(u));
    const votes = new Map<string, number>();
    for (const u of seen) {
      const id = eventIncident.get(u);
      if (id) votes.set(id, (votes.get(id) ?? 0) + 1);
    }
    // the predicted incident: the one holding most of this truth's events; ties go to the one whose root is right
    let best: string | null = null;
    let bestVotes = 0;
    for (const [id, n] of votes) {
      const rightRoot = incidents.get(id)?.rootCause?.eventUid === g.rootCause.eventUid;
      if (n > bestVotes || (n === bestVotes && rightRoot)) {
        best = id;
        bestVotes = n;
      }
    }
    const truth = new Set(g.eventUids);
    const predictedMembers = best ? (members.get(best) ?? new Set<string>()) : new Set<string>();
    const inBoth = [...predictedMembers].filter((u) => truth.has(u)).length;
    const inc = best ? incidents.get(best) : undefined;
    const rc = inc?.rootCause;
    const expectedObj = objKey(g.rootCause.object);
    let correct: boolean;
    let judgedBy: 'event' | 'object';
    if (g.rootCause.eventUid) {
      judgedBy = 'event';
      correct = rc?.eventUid === g.rootCause.eventUid;
    } else {
      judgedBy = 'object';
      correct = !!rc && (typeof rc.object === 'string' ? rc.object : objKey(rc.object)) === expectedObj;
    }
    out.push({
      gt: g.id,
      scenario: g.scenario,
      predicted: best,
      precision: predictedMembers.size ? inBoth / predictedMembers.size : 0,
      recall: seen.length ? inBoth / seen.length : 0,
      rootCauseCorrect: correct,
      judgedBy,
      expected: `${g.rootCause.reason} ${expectedObj}`,
      got: rc ? `${rc.reason} ${typeof rc.object === 'string' ? rc.object : objKey(rc.object)}` : '(none)',
    });
  }
  const byScenario = new Map<string, IncidentScore[]>();
  for (const s of out) {
    const l = byScenario.get(s.scenario) ?? [];
    if (l.length === 0) byScenario.set(s.scenario, l);
    l.push(s);
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const scenarios = [...byScenario].map(([scenario, l]) => ({
    scenario,
    incidents: l.length,
    precision: avg(l.map((x) => x.precision)),
    recall: avg(l.map((x) => x.recall)),
    rootCauseAccuracy: avg(l.map((x) => (x.rootCauseCorrect ? 1 : 0))),
  }));
  scenarios.sort((a, b) => a.scenario.localeCompare(b.scenario));
  const noise = (gt.noise ?? []).filter((u) => eventIncident.has(u));
  return {
    incidents: out,
    scenarios,
    rootCauseFirst: avg(out.map((x) => (x.rootCauseCorrect ? 1 : 0))),
    noiseInIncidents: noise.filter((u) => eventIncident.get(u)).length,
    noiseEvents: noise.length,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** A fixed-width table of the per-scenario figures. */
export function formatScore(s: Score): string {
  const rows = [
    ['scenario', 'incidents', 'precision', 'recall', 'root cause first'],
    ...s.scenarios.map((x) => [
      x.scenario,
      String(x.incidents),
      pct(x.precision),
      pct(x.recall),
      pct(x.rootCauseAccuracy),
    ]),
  ];
  const w = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  '));
  lines.push(
    `root cause first: ${pct(s.rootCauseFirst)} of ${s.incidents.length} incidents; noise events in incidents: ${s.noiseInIncidents}/${s.noiseEvents}`,
  );
  for (const x of s.incidents.filter((i) => !i.rootCauseCorrect)) {
    lines.push(`  wrong root (${x.gt}): expected ${x.expected}, got ${x.got}`);
  }
  return lines.join('\n');
}
