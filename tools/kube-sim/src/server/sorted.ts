// A sorted sequence of records keyed by string, in chunks so inserts and deletes stay cheap at 200k+ entries.

export interface Keyed {
  key: string;
}

const MAX_CHUNK = 512;

export class SortedChunks<T extends Keyed> {
  private chunks: T[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last key >= key (or the last chunk). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      if (c[c.length - 1]!.key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound<T extends Keyed>(c: T[], key: string): number {
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]!.key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts or replaces the record with the same key. */
  set(rec: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([rec]);
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(rec.key);
    const c = this.chunks[ci]!;
    const i = SortedChunks.lowerBound(c, rec.key);
    if (i < c.length && c[i]!.key === rec.key) {
      c[i] = rec;
      return;
    }
    c.splice(i, 0, rec);
    this.count++;
    if (c.length > MAX_CHUNK) this.chunks.splice(ci, 1, c.slice(0, c.length >> 1), c.slice(c.length >> 1));
  }

  delete(key: string): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(key);
    const c = this.chunks[ci]!;
    const i = SortedChunks.lowerBound(c, key);
    if (i >= c.length || c[i]!.key !== key) return false;
    c.splice(i, 1);
    this.count--;
    if (c.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /** Records with key >= from (and starting with prefix, when given), in key order. */
  *from(from: string, prefix = ''): Generator<T> {
    const start = from > prefix ? from : prefix;
    if (this.chunks.length === 0) return;
    let ci = this.chunkFor(start);
    let i = SortedChunks.lowerBound(this.chunks[ci]!, start);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci]!;
      for (; i < c.length; i++) {
        const r = c[i]!;
        if (prefix && !r.key.startsWith(prefix)) return;
        yield r;
      }
    }
  }

  /** A flat copy (of references) of the records with the prefix: a point-in-time snapshot. */
  snapshot(prefix = ''): T[] {
    if (!prefix) return this.chunks.flat();
    const out: T[] = [];
    for (const r of this.from(prefix, prefix)) out.push(r);
    return out;
  }
}
