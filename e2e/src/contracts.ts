// Every message on kec's public subjects, checked against the published JSON Schema files (schemas/*.json) as a
// subscriber reads them: a core NATS subscription per public subject kind of a run's root, for the whole test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Compile } from 'typebox/compile';
import { NATS_URL, ROOT } from './harness.ts';

/** Public subject kind -> its published schema file. */
export const PUBLIC_CONTRACTS = {
  events: 'kec.events.v1.json',
  incidents: 'kec.incident.v1.json',
  patterns: 'kec.pattern.v1.json',
  gaps: 'kec.gap.v1.json',
  alerts: 'kec.alert.v1.json',
} as const;
export type PublicKind = keyof typeof PUBLIC_CONTRACTS;

export interface ContractViolation {
  subject: string;
  error: string;
  payload: string;
}

export class ContractTap {
  /** Messages seen per kind. */
  readonly seen: Record<PublicKind, number> = { events: 0, incidents: 0, patterns: 0, gaps: 0, alerts: 0 };
  readonly violations: ContractViolation[] = [];
  readonly #nc: NatsConnection;
  readonly #subs: Subscription[] = [];
  readonly #done: Promise<void>[] = [];

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /** Subscribes to `<root>.<kind>.>` for each public kind (before the services publish, so nothing is missed). */
  static async start(root: string, natsUrl = NATS_URL): Promise<ContractTap> {
    const tap = new ContractTap(await connect({ servers: natsUrl, timeout: 5000 }));
    for (const [kind, file] of Object.entries(PUBLIC_CONTRACTS) as [PublicKind, string][]) {
      const check = Compile(JSON.parse(readFileSync(join(ROOT, 'schemas', file), 'utf8')));
      const sub = tap.#nc.subscribe(`${root}.${kind}.>`);
      tap.#subs.push(sub);
      tap.#done.push(
        (async () => {
          for await (const m of sub) {
            tap.seen[kind]++;
            let data: unknown;
            try {
              data = m.json();
            } catch (err) {
              tap.violations.push({
                subject: m.subject,
                error: `not JSON: ${(err as Error).message}`,
                payload: m.string(),
              });
              continue;
            }
            if (!check.Check(data)) {
              const first = [...check.Errors(data)][0];
              tap.violations.push({
                subject: m.subject,
                error: `${file}: ${JSON.stringify(first)}`,
                payload: m.string().slice(0, 2000),
              });
            }
          }
        })(),
      );
    }
    await tap.#nc.flush();
    return tap;
  }

  /** One line: messages per kind and the violations. */
  summary(): string {
    const kinds = Object.entries(this.seen)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return `public messages checked against schemas/: ${kinds}; ${this.violations.length} violations`;
  }

  async stop(): Promise<void> {
    await this.#nc.flush().catch(() => undefined);
    for (const s of this.#subs) s.unsubscribe();
    await Promise.all(this.#done);
    await this.#nc.close();
  }
}
