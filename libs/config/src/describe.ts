// Human phrases derived from a key's schema: the "must be ..." part of errors and the allowed-values column.
import type { TSchema } from 'typebox';
import type { CompiledKey } from './spec.ts';
import { urlRule } from './spec.ts';

type SchemaLike = {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  anyOf?: { const?: unknown }[];
};

/** The allowed values of an enum-like schema (`Type.Enum`, or a union of literals), else undefined. */
export function enumValues(schema: TSchema): unknown[] | undefined {
  const s = schema as SchemaLike;
  if (Array.isArray(s.enum)) return s.enum;
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0 && s.anyOf.every((m) => m !== null && 'const' in m)) {
    return s.anyOf.map((m) => m.const);
  }
  return undefined;
}

/** The type column: integer, number, boolean, url, enum or string. */
export function typeName(schema: TSchema): string {
  const s = schema as SchemaLike;
  if (urlRule(schema)) return 'url';
  if (enumValues(schema)) return 'enum';
  return s.type ?? 'string';
}

function range(kind: string, min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} >= ${min}`;
  if (max !== undefined) return `${kind} <= ${max}`;
  return kind;
}

/** The phrase that follows "must be": `an integer from 0 to 65535`, `one of: info, warn`. */
export function expectation(key: CompiledKey): string {
  if (key.definition.expect !== undefined) return key.definition.expect;
  const schema = key.definition.schema;
  const s = schema as SchemaLike;
  const url = urlRule(schema);
  if (url) {
    const schemes = url.protocols.map((p) => `${p}://`).join(' or ');
    return url.list ? `a comma-separated list of URLs with scheme ${schemes}` : `a URL with scheme ${schemes}`;
  }
  const values = enumValues(schema);
  if (values) return `one of: ${values.map(String).join(', ')}`;
  switch (s.type) {
    case 'integer':
      return range('an integer', s.minimum, s.maximum);
    case 'number':
      return range('a number', s.minimum, s.maximum);
    case 'boolean':
      return 'true or false';
    case 'string': {
      if (s.pattern !== undefined) return `a string matching /${s.pattern}/`;
      if (s.minLength !== undefined && s.minLength > 0) return 'a non-empty string';
      return 'a string';
    }
    default:
      return 'a valid value';
  }
}

/** The allowed-values column of the README table (empty when any string goes). */
export function allowedValues(key: CompiledKey): string {
  const phrase = expectation(key);
  return phrase === 'a string' ? '' : phrase;
}
