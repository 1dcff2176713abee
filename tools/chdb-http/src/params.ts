// `param_<name>` values, passed on through chdb's public binding (Session.queryBindAsync).
//
// ClickHouse binds a param's raw text with the declared type's *Escaped* (TSV) deserialization. chdb's
// queryBindAsync does not take that raw text: it TSV-escapes a JS string before the engine deserializes it again.
// So a value is first decoded from its Escaped form into the JS string that chdb's escaping turns back into an
// equivalent text:
// - scalar types (String, numbers, dates, …): Escaped text is a backslash-escaped string; decode it. The engine
//   then reads exactly the same value.
// - composite types (Array, Tuple, Map, Nested): the engine parses the text directly as a literal, with quoted
//   strings inside ('a\'b'), and applies no TSV unescaping first; chdb would double every backslash. The only
//   escape that cannot survive a decode/re-escape round trip is `\'`, so inside quoted strings it becomes the
//   equivalent `''` first, then the text is decoded as above: chdb's re-escaping restores every other escape.
// `\N` (NULL) is passed as null, which chdb sends as `\N`.

const WRAPPERS = /^\s*(?:Nullable|LowCardinality)\s*\(\s*(.*)\)\s*$/s;
const COMPOSITE = /^\s*(?:Array|Tuple|Map|Nested)\s*\(/i;

/** True when a value of `type` is parsed as a literal with quoted strings inside (see above). */
export function isCompositeType(type: string | undefined): boolean {
  if (type === undefined) return false;
  let t = type;
  for (let m = WRAPPERS.exec(t); m; m = WRAPPERS.exec(t)) t = m[1] as string;
  return COMPOSITE.test(t);
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  '0': 0x00,
  a: 0x07,
  v: 0x0b,
  e: 0x1b,
};
const HEX = /^[0-9a-fA-F]{2}$/;

/** Decodes ClickHouse's Escaped text (`\t`, `\n`, `\\`, `\'`, `\xHH`, …; any other `\c` is `c`), bytewise. */
export function unescapeTsv(s: string): string {
  if (!s.includes('\\')) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b !== 0x5c || i + 1 >= src.length) {
      out[n++] = b;
      continue;
    }
    const c = String.fromCharCode(src[i + 1] as number);
    const simple = SIMPLE_ESCAPES[c];
    const hex = src.subarray(i + 2, i + 4).toString('latin1');
    if (simple !== undefined) {
      out[n++] = simple;
      i++;
    } else if (c === 'x' && HEX.test(hex)) {
      out[n++] = Number.parseInt(hex, 16);
      i += 3;
    } else {
      out[n++] = src[i + 1] as number;
      i++;
    }
  }
  return out.subarray(0, n).toString('utf8');
}

/** Inside single-quoted strings of a literal, `\'` becomes `''` (the same character, without a backslash). */
export function requoteLiteral(s: string): string {
  if (!s.includes("\\'")) return s;
  let out = '';
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (!inString) {
      if (c === "'") inString = true;
      out += c;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1] === "'" ? "''" : c + s[i + 1];
      i++;
    } else if (c === "'") {
      if (s[i + 1] === "'") {
        out += "''";
        i++;
      } else {
        inString = false;
        out += c;
      }
    } else out += c;
  }
  return out;
}

/** The value to give chdb's queryBindAsync for the raw HTTP param `raw` bound to a placeholder of `type`. */
export function bindValue(raw: string, type: string | undefined): string | null {
  if (raw === '\\N') return null;
  return unescapeTsv(isCompositeType(type) ? requoteLiteral(raw) : raw);
}

export function bindParams(
  raw: ReadonlyMap<string, string>,
  types: ReadonlyMap<string, string>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, value] of raw) out[name] = bindValue(value, types.get(name));
  return out;
}
