// resourceVersion ordering. The API says RVs are opaque, but every kube-apiserver backed by etcd renders
// mod_revision as a decimal uint64 (L4), and resuming, checkpointing and the replay rule all need an order.
// Decimal strings compare by length, then lexicographically; anything non-decimal sorts before every number.

const DECIMAL = /^[0-9]+$/;

export function isDecimalRV(rv: string | undefined): rv is string {
  return typeof rv === 'string' && DECIMAL.test(rv);
}

/** -1, 0 or 1 as a is older than, equal to, or newer than b. */
export function compareResourceVersion(a: string, b: string): number {
  const da = isDecimalRV(a);
  const db = isDecimalRV(b);
  if (!da || !db) return da === db ? (a < b ? -1 : a > b ? 1 : 0) : da ? 1 : -1;
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function maxResourceVersion(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareResourceVersion(a, b) >= 0 ? a : b;
}
