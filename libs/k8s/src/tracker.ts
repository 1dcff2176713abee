// Tracks which resourceVersions are safe to resume from, given a window of in-flight work.
//
// Items arrive in stream order (watch frames rise in RV; a LIST is one snapshot at its list RV). Each item is
// "pending" until the caller marks it done (e.g. its publish was acked). The safe checkpoint is the highest RV r
// such that every item with RV <= r is done AND no further item with RV r can still arrive. The second condition
// matters because several DELETEDs of one etcd lease revocation share one RV (kubernetes#110210): resuming from
// an RV whose batch was only half published would skip the rest. An RV is known complete once an item with a
// higher RV, a BOOKMARK, or the end of a LIST at or above it has been seen.
import { compareResourceVersion } from './rv.ts';

interface Group {
  rv: string;
  pending: number;
}

export type TrackerToken = Group;

export class ResourceVersionTracker {
  readonly #groups: Group[] = [];
  #head = 0;
  #barrier: string | undefined;
  #checkpoint: string | undefined;
  #listing = false;

  constructor(initial?: string) {
    this.#checkpoint = initial;
    this.#barrier = initial;
  }

  /** The highest RV it is safe to resume a watch from, or undefined before anything completed. */
  get checkpoint(): string | undefined {
    return this.#checkpoint;
  }

  /** Number of groups held (bounded by the in-flight window plus completed-but-unclosed groups). */
  get size(): number {
    return this.#groups.length - this.#head;
  }

  /** Registers an item at rv (pending until done()). RVs lower than the last one are folded into the last group. */
  add(rv: string): TrackerToken {
    const tail = this.#groups.length > this.#head ? this.#groups[this.#groups.length - 1] : undefined;
    if (tail && compareResourceVersion(rv, tail.rv) <= 0) {
      tail.pending++;
      return tail;
    }
    // In a watch, a higher RV closes every group before it. Not during a LIST: its items are unordered and a pass
    // restarted after an expired continue token is a new snapshot; only the list's end proves completeness.
    if (tail && !this.#listing) this.#raiseBarrier(tail.rv);
    const g: Group = { rv, pending: 1 };
    this.#groups.push(g);
    return g;
  }

  /** Marks an item done. Returns the new checkpoint if it advanced. */
  done(token: TrackerToken): string | undefined {
    token.pending--;
    return this.#advance();
  }

  /** A LIST starts: until complete(), its items prove nothing about completeness. */
  beginList(): void {
    this.#listing = true;
  }

  /** Everything at or below rv has been seen (a BOOKMARK, or the end of a LIST at rv). Returns a new checkpoint. */
  complete(rv: string): string | undefined {
    this.#listing = false;
    this.#raiseBarrier(rv);
    return this.#advance();
  }

  /** Forgets pending items (e.g. after losing leadership) without moving the checkpoint. */
  reset(): void {
    this.#groups.length = 0;
    this.#head = 0;
    this.#barrier = this.#checkpoint;
    this.#listing = false;
  }

  #raiseBarrier(rv: string): void {
    if (this.#barrier === undefined || compareResourceVersion(rv, this.#barrier) > 0) this.#barrier = rv;
  }

  #advance(): string | undefined {
    const before = this.#checkpoint;
    const b = this.#barrier;
    while (this.#head < this.#groups.length) {
      const g = this.#groups[this.#head]!;
      if (g.pending > 0 || b === undefined || compareResourceVersion(g.rv, b) > 0) break;
      this.#head++;
      if (this.#checkpoint === undefined || compareResourceVersion(g.rv, this.#checkpoint) > 0) this.#checkpoint = g.rv;
    }
    if (this.#head === this.#groups.length) {
      this.#groups.length = 0;
      this.#head = 0;
      if (b !== undefined && (this.#checkpoint === undefined || compareResourceVersion(b, this.#checkpoint) > 0)) {
        this.#checkpoint = b;
      }
    } else if (this.#head > 1024) {
      this.#groups.splice(0, this.#head);
      this.#head = 0;
    }
    return this.#checkpoint !== before ? this.#checkpoint : undefined;
  }
}
