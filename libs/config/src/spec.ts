// Describing configuration: one TypeBox schema per key, plus its description, default and display hints.
import Type, { type Static, type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';

/** One configuration key. The env var name is derived: `KEC_[<SECTION>_]<KEY_IN_SNAKE_CASE>`. */
export interface KeyDefinition {
  /** The value's TypeBox schema (`Type.Integer({ minimum: 0, maximum: 65535 })`, `urlSchema(...)`, `Type.Enum([...])`). */
  schema: TSchema;
  /** One sentence for the README table and `kec config`. */
  description: string;
  /** Used when neither the env var nor the YAML file sets the key. Checked against the schema by `defineConfig`. */
  default?: unknown;
  /** Without a default: fail when unset (otherwise the key resolves to `undefined`). */
  required?: boolean;
  /** Shown as `***` by `redactConfig` and never echoed in errors. URLs are always shown with their password masked. */
  secret?: boolean;
  /** Overrides the phrase derived from the schema, used after "must be" in errors and in the allowed-values column. */
  expect?: string;
}

export interface ConfigSpecInput<K extends Record<string, KeyDefinition>> {
  /** Service section (`watcher` -> env `KEC_WATCHER_*`, YAML mapping `watcher:`). Omitted for the shared keys. */
  section?: string;
  keys: K;
}

/** A compiled key: its definition plus the derived env var name, YAML path and validator. */
export interface CompiledKey {
  readonly name: string;
  readonly env: string;
  readonly yamlPath: string;
  readonly definition: KeyDefinition;
  readonly validator: Validator;
}

/** The result of `defineConfig`; pass it to `loadConfig`, `renderConfigTable`, `redactConfig`. */
export interface ConfigSpec<K extends Record<string, KeyDefinition> = Record<string, KeyDefinition>> {
  readonly section: string | undefined;
  readonly keys: K;
  /** In declaration order. */
  readonly compiled: readonly CompiledKey[];
}

type ValueOf<D extends KeyDefinition> = Static<D['schema']>;

/** The typed object `loadConfig` returns: keys with a default or `required: true` are always set. */
export type ResolvedConfig<S> =
  S extends ConfigSpec<infer K>
    ? {
        -readonly [P in keyof K]: K[P] extends { default: unknown }
          ? ValueOf<K[P]>
          : K[P] extends { required: true }
            ? ValueOf<K[P]>
            : ValueOf<K[P]> | undefined;
      }
    : never;

const KEY_NAME = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]+)*$/;
const SECTION_NAME = /^[a-z][a-z0-9]*$/;

/** `metricsPort` -> `METRICS_PORT`. */
export function snakeUpper(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/**
 * Declares a set of configuration keys. Throws a plain Error (a programming mistake, found when the module loads)
 * when a key name is not camelCase, or a default does not satisfy its own schema.
 */
export function defineConfig<const K extends Record<string, KeyDefinition>>(input: ConfigSpecInput<K>): ConfigSpec<K> {
  const section = input.section;
  if (section !== undefined && !SECTION_NAME.test(section)) {
    throw new Error(`defineConfig: section "${section}" must be lowercase letters and digits`);
  }
  const prefix = section === undefined ? 'KEC_' : `KEC_${section.toUpperCase()}_`;
  const compiled: CompiledKey[] = [];
  for (const [name, definition] of Object.entries(input.keys)) {
    if (!KEY_NAME.test(name)) {
      throw new Error(`defineConfig: key "${name}" must be camelCase (one capital per word, e.g. natsUrl)`);
    }
    const validator = Compile(definition.schema);
    if (definition.default !== undefined && !validator.Check(definition.default)) {
      throw new Error(
        `defineConfig: the default of "${name}" (${JSON.stringify(definition.default)}) fails its schema`,
      );
    }
    compiled.push({
      name,
      env: prefix + snakeUpper(name),
      yamlPath: section === undefined ? name : `${section}.${name}`,
      definition,
      validator,
    });
  }
  return Object.freeze({ section, keys: input.keys, compiled: Object.freeze(compiled) });
}

export interface UrlSchemaOptions {
  /** Allowed schemes without `://`, e.g. `['nats', 'tls']`. */
  protocols: readonly string[];
  /** Accept a comma-separated list of URLs (NATS seed servers). */
  list?: boolean;
}

/** A string schema for URLs; `loadConfig` checks that each parses and uses an allowed scheme. */
export function urlSchema(options: UrlSchemaOptions) {
  return Type.String({ minLength: 1, kecUrl: { protocols: [...options.protocols], list: options.list === true } });
}

export interface UrlRule {
  protocols: string[];
  list: boolean;
}

export function urlRule(schema: TSchema): UrlRule | undefined {
  const rule = (schema as { kecUrl?: UrlRule }).kecUrl;
  return rule;
}
