// Insight quality: kube-sim's scenarios through the real enricher and correlator (watch -> KEC_RAW -> enricher ->
// KEC_ENRICHED -> correlator -> KEC_EVENTS/KEC_INCIDENTS), scored against the driver's ground truth per scenario and
// seed: grouping precision and recall, root cause first; plus the fallback rate of the classification (events whose
// rule is fallback-warning/fallback-normal) and fingerprint groups per reason.
//
//   ./dev bench insight [--seeds 7,11,23] [--minutes 20] [--rate 1] [--scenarios all] [--overlap]
// --overlap: kube-sim's overlap mode (scenarios at once, sharing nodes and workloads); --both: each seed plain, then
// overlapping.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { correlatorService, type EventPayload, formatScore, type IncidentPayload, score } from '@kec/correlator';
import {
  correlatorEnv,
  playEnriched,
  readAll,
  startService,
  streamCount,
  waitFor,
} from '../services/correlator/test/pipeline.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '7,11,23' },
    minutes: { type: 'string', default: '20' },
    rate: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: 'all' },
    explain: { type: 'boolean', default: false },
    overlap: { type: 'boolean', default: false },
    both: { type: 'boolean', default: false },
  },
});
const seeds = values.seeds.split(',').map(Number);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const totals = { right: 0, incidents: 0, events: 0, fallback: 0 };
const perScenario = new Map<string, { p: number[]; r: number[]; rc: number[] }>();
const runs = seeds.flatMap((seed) =>
  values.both
    ? [
        { seed, overlap: false },
        { seed, overlap: true },
      ]
    : [{ seed, overlap: values.overlap }],
);
for (const { seed, overlap } of runs) {
  const play = await playEnriched({
    seed,
    scenarios: values.scenarios === 'all' ? 'all' : values.scenarios.split(','),
    rate: Number(values.rate),
    durationMs: Number(values.minutes) * 60_000,
    overlap,
  });
  try {
    const sp = play.space;
    const redisPrefix = `b${randomBytes(4).toString('hex')}:`;
    const stop = await startService(correlatorService, correlatorEnv(sp, redisPrefix));
    try {
      await waitFor(
        'correlated',
        async () => (await streamCount(sp.bus, `${sp.prefix}KEC_EVENTS`)) >= play.enriched,
        300_000,
      );
    } finally {
      await stop();
    }
    const evs = await readAll<EventPayload>(sp.bus, `${sp.prefix}KEC_EVENTS`);
    const incs = await readAll<IncidentPayload>(sp.bus, `${sp.prefix}KEC_INCIDENTS`);
    const eventIncident = new Map<string, string | null>();
    const lastRv = new Map<string, bigint>();
    const lastEvent = new Map<string, EventPayload>();
    for (const m of evs) {
      const d = m.data;
      const rv = BigInt(d.resourceVersion);
      if (d.watchType !== 'DELETED' && rv >= (lastRv.get(d.uid) ?? 0n)) {
        lastRv.set(d.uid, rv);
        eventIncident.set(d.uid, d.incidentId);
        lastEvent.set(d.uid, d);
      } else if (!eventIncident.has(d.uid)) eventIncident.set(d.uid, d.incidentId);
    }
    const latest = new Map<string, IncidentPayload>();
    for (const m of incs) {
      const had = latest.get(m.data.id);
      if (!had || had.version < m.data.version) latest.set(m.data.id, m.data);
    }
    const s = score(play.groundTruth, eventIncident, latest);
    // fallback rate over event objects (their latest observation)
    const fallbackReasons = new Map<string, number>();
    let fb = 0;
    for (const e of lastEvent.values()) {
      if (e.classification.ruleId.startsWith('fallback-')) {
        fb++;
        const k = `${e.reason} (${e.reportingController || e.deprecatedSource?.component || '?'})`;
        fallbackReasons.set(k, (fallbackReasons.get(k) ?? 0) + 1);
      }
    }
    totals.events += lastEvent.size;
    totals.fallback += fb;
    totals.right += s.incidents.filter((i) => i.rootCauseCorrect).length;
    totals.incidents += s.incidents.length;
    for (const x of s.scenarios) {
      const name = overlap && values.both ? `${x.scenario} (overlap)` : x.scenario;
      const a = perScenario.get(name) ?? { p: [], r: [], rc: [] };
      perScenario.set(name, a);
      a.p.push(x.precision);
      a.r.push(x.recall);
      a.rc.push(x.rootCauseAccuracy);
    }
    process.stdout.write(
      `\n== seed ${seed}${overlap ? ' (overlap)' : ''}: ${play.enriched} observations, ${lastEvent.size} event objects\n`,
    );
    process.stdout.write(`${formatScore(s)}\n`);
    if (values.explain) {
      // the members of each predicted incident that are not in its truth: reason, object, and where the truth has them
      const gtOf = new Map<string, string>();
      for (const g of play.groundTruth.incidents) for (const u of g.eventUids) gtOf.set(u, g.id);
      for (const x of s.incidents) {
        if (x.recall < 0.9) {
          const g = play.groundTruth.incidents.find((i) => i.id === x.gt);
          const missed = new Map<string, number>();
          for (const uid of g?.eventUids ?? []) {
            if (!eventIncident.has(uid) || eventIncident.get(uid) === x.predicted) continue;
            const ev = lastEvent.get(uid);
            const k = `${ev?.reason} ${ev?.regarding.kind} -> ${eventIncident.get(uid) ? 'another incident' : 'none'}`;
            missed.set(k, (missed.get(k) ?? 0) + 1);
          }
          process.stdout.write(
            `  missed from ${x.gt} (recall ${pct(x.recall)}): ${[...missed].map(([k, n]) => `${k} x${n}`).join(', ')}\n`,
          );
        }
        if (!x.predicted || x.precision >= 0.9) continue;
        const extra = new Map<string, number>();
        for (const [uid, id] of eventIncident) {
          if (id !== x.predicted || gtOf.get(uid) === x.gt) continue;
          const ev = lastEvent.get(uid);
          const k = `${ev?.reason} ${ev?.regarding.kind} (${gtOf.get(uid) ?? 'noise'})`;
          extra.set(k, (extra.get(k) ?? 0) + 1);
        }
        process.stdout.write(
          `  extra in ${x.gt} (precision ${pct(x.precision)}): ${[...extra].map(([k, n]) => `${k} x${n}`).join(', ')}\n`,
        );
      }
    }
    process.stdout.write(
      `fallback: ${fb}/${lastEvent.size} event objects (${pct(fb / Math.max(1, lastEvent.size))})${
        fallbackReasons.size ? `: ${[...fallbackReasons].map(([k, n]) => `${k} ${n}`).join(', ')}` : ''
      }\n`,
    );
  } finally {
    await play.cleanup();
  }
}
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const min = (xs: number[]) => Math.min(...xs);
process.stdout.write(
  `\n== over seeds ${seeds.join(', ')}${values.both ? ', plain and overlapping' : values.overlap ? ', overlapping' : ''}\n`,
);
process.stdout.write(
  'scenario                         precision avg/min   recall avg/min   root cause first avg/min\n',
);
for (const [name, a] of [...perScenario].sort((x, y) => x[0].localeCompare(y[0])))
  process.stdout.write(
    `${name.padEnd(32)} ${pct(avg(a.p)).padStart(7)} / ${pct(min(a.p)).padStart(6)}   ${pct(avg(a.r)).padStart(6)} / ${pct(min(a.r)).padStart(6)}   ${pct(avg(a.rc)).padStart(6)} / ${pct(min(a.rc)).padStart(6)}\n`,
  );
process.stdout.write(
  `root cause first: ${totals.right}/${totals.incidents} (${pct(totals.right / Math.max(1, totals.incidents))}); fallback: ${totals.fallback}/${totals.events} event objects (${pct(totals.fallback / Math.max(1, totals.events))})\n`,
);
process.exit(0);
