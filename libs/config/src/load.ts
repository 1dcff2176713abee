// Resolving configuration: env var > YAML file > default, each value parsed and checked against its schema.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { expectation, typeName } from './describe.ts';
import { ConfigError, type ConfigSource } from './errors.ts';
import { type CompiledKey, type ConfigSpec, type KeyDefinition, type ResolvedConfig, urlRule } from './spec.ts';

export interface LoadConfigOptions {
  /** The environment to read (`process.env`, or a test's). Empty strings count as unset. */
  env: Record<string, string | undefined>;
  /** YAML file path. Defaults to `env.KEC_CONFIG_FILE`; no file when neither is set. */
  file?: string | undefined;
}

export interface ResolvedEntry {
  key: CompiledKey;
  value: unknown;
  source: ConfigSource | 'unset';
}

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and parses the YAML file (small; read once per spec that is loaded). */
function readYaml(path: string): Mapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError({ key: path, reason: `cannot read the config file (${code})`, cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = String((err as Error).message)
      .split('\n')[0]!
      .replace(/:$/, '');
    throw new ConfigError({ key: path, reason: `invalid YAML: ${first}`, cause: err });
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMapping(doc)) throw new ConfigError({ key: path, reason: 'the config file must be a YAML mapping of keys' });
  return doc;
}

/** Reads a secret from a file (a mounted Secret); one trailing newline is dropped. The error names the path only. */
function readSecret(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError({ key, reason: `cannot read the secret file ${path} (${code})`, cause: err });
  }
}

/** Masks the password of every URL in a string: `redis://:s3cret@h:6379` -> `redis://:***@h:6379`. */
export function maskUrlSecrets(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s,]*:)[^@/\s,]*@/gi, '$1***@');
}

function got(key: CompiledKey, raw: unknown): string {
  if (key.definition.secret) return '(value hidden)';
  const text = typeof raw === 'string' ? JSON.stringify(maskUrlSecrets(raw)) : JSON.stringify(raw);
  return `(got ${text && text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

function invalid(key: CompiledKey, raw: unknown, source: 'env' | 'file', file: string | undefined): ConfigError {
  const name = source === 'env' ? key.env : key.yamlPath;
  return new ConfigError({
    key: name,
    reason: `must be ${expectation(key)} ${got(key, raw)}`,
    ...(source === 'file' ? { file } : {}),
  });
}

/** Turns a string (env var, or a YAML string scalar) into the schema's JS type; undefined when it cannot. */
function fromString(def: KeyDefinition, raw: string): unknown {
  switch (typeName(def.schema)) {
    case 'integer':
      return /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw.trim());
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const b = raw.trim().toLowerCase();
      if (b === 'true' || b === '1') return true;
      if (b === 'false' || b === '0') return false;
      return undefined;
    }
    default:
      return raw;
  }
}

function urlOk(key: CompiledKey, value: string): boolean {
  const rule = urlRule(key.definition.schema);
  if (!rule) return true;
  const parts = rule.list ? value.split(',').map((p) => p.trim()) : [value];
  return parts.every((p) => {
    if (!URL.canParse(p)) return false;
    const u = new URL(p);
    return rule.protocols.includes(u.protocol.replace(/:$/, '')) && u.hostname !== '';
  });
}

function check(key: CompiledKey, raw: unknown, source: 'env' | 'file', file: string | undefined): unknown {
  const value = typeof raw === 'string' ? fromString(key.definition, raw) : raw;
  if (value === undefined || !key.validator.Check(value)) throw invalid(key, raw, source, file);
  if (typeof value === 'string' && !urlOk(key, value)) throw invalid(key, raw, source, file);
  return value;
}

function fileSection(spec: ConfigSpec, path: string): Mapping {
  const doc = readYaml(path);
  // Secret keys may also be given as `<key>File` (a path); the error lists only the plain names.
  const accepted = new Set(spec.compiled.flatMap((k) => (k.definition.secret ? [k.name, `${k.name}File`] : [k.name])));
  const known = new Set(spec.compiled.map((k) => k.name));
  if (spec.section === undefined) {
    // Top-level scalars are shared keys; a mapping is a service section, checked by that service's spec.
    for (const [name, value] of Object.entries(doc)) {
      if (!accepted.has(name) && !isMapping(value)) {
        throw new ConfigError({ key: name, file: path, reason: `unknown key (known: ${[...known].join(', ')})` });
      }
    }
    return doc;
  }
  const section = doc[spec.section];
  if (section === undefined || section === null) return {};
  if (!isMapping(section)) {
    throw new ConfigError({ key: spec.section, file: path, reason: 'must be a mapping of the section keys' });
  }
  for (const name of Object.keys(section)) {
    if (!accepted.has(name)) {
      throw new ConfigError({
        key: `${spec.section}.${name}`,
        file: path,
        reason: `unknown key (known: ${[...known].join(', ')})`,
      });
    }
  }
  return section;
}

/** Resolves every key and says where each value came from (for `kec config`). Throws ConfigError. */
export function resolveConfig(spec: ConfigSpec, options: LoadConfigOptions): ResolvedEntry[] {
  const env = options.env;
  const envValue = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const file = options.file ?? envValue('KEC_CONFIG_FILE');
  if (spec.section !== undefined) {
    // A section owns its env prefix: a KEC_WATCHER_* name that is no key is a typo, not someone else's setting.
    const prefix = `KEC_${spec.section.toUpperCase()}_`;
    const knownEnv = new Set(spec.compiled.map((k) => k.env));
    const acceptedEnv = new Set(
      spec.compiled.flatMap((k) => (k.definition.secret ? [k.env, `${k.env}_FILE`] : [k.env])),
    );
    for (const name of Object.keys(env).sort()) {
      if (name.startsWith(prefix) && !acceptedEnv.has(name)) {
        throw new ConfigError({ key: name, reason: `unknown key (known: ${[...knownEnv].join(', ')})` });
      }
    }
  }
  const fromFile = file === undefined ? {} : fileSection(spec, file);
  return spec.compiled.map((key): ResolvedEntry => {
    const e = envValue(key.env);
    if (e !== undefined) return { key, value: check(key, e, 'env', file), source: 'env' };
    if (key.definition.secret) {
      // A secret may come from a mounted file: KEC_<KEY>_FILE, or `<key>File` in the YAML file.
      const envPath = envValue(`${key.env}_FILE`);
      if (envPath !== undefined) {
        return { key, value: check(key, readSecret(`${key.env}_FILE`, envPath), 'env', file), source: 'secret-file' };
      }
      const filePath = fromFile[`${key.name}File`];
      if (typeof filePath === 'string' && filePath !== '') {
        const value = check(key, readSecret(`${key.yamlPath}File`, filePath), 'file', file);
        return { key, value, source: 'secret-file' };
      }
    }
    const f = fromFile[key.name];
    if (f !== undefined && f !== null) return { key, value: check(key, f, 'file', file), source: 'file' };
    if (key.definition.default !== undefined) return { key, value: key.definition.default, source: 'default' };
    if (key.definition.required) {
      const where = spec.section === undefined ? key.name : key.yamlPath;
      throw new ConfigError({ key: key.env, reason: `is required (set ${key.env}, or ${where} in the config file)` });
    }
    return { key, value: undefined, source: 'unset' };
  });
}

/** Resolves the spec into its typed object: env var > YAML file > default. Throws ConfigError on the first bad key. */
export function loadConfig<S extends ConfigSpec>(spec: S, options: LoadConfigOptions): ResolvedConfig<S> {
  const out: Record<string, unknown> = {};
  for (const entry of resolveConfig(spec, options)) out[entry.key.name] = entry.value;
  return out as ResolvedConfig<S>;
}

/** The one-line message `loadConfigOrExit` prints: `kec: config error: KEC_METRICS_PORT: must be ...`. */
export function formatConfigError(err: ConfigError): string {
  return `kec: config error: ${err.message}`;
}

/** Exit status for a configuration error (distinct from 1, a runtime failure). */
export const CONFIG_ERROR_EXIT_CODE = 2;

/**
 * `loadConfig`, but a ConfigError prints exactly one line to stderr and exits the process with code 2
 * (before anything connects anywhere). Other errors are rethrown.
 */
export function loadConfigOrExit<S extends ConfigSpec>(spec: S, options: LoadConfigOptions): ResolvedConfig<S> {
  try {
    return loadConfig(spec, options);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${formatConfigError(err)}\n`);
      process.exit(CONFIG_ERROR_EXIT_CODE);
    }
    throw err;
  }
}

/** A copy fit for printing: secret keys as `***`, URL passwords masked. */
export function redactConfig<S extends ConfigSpec>(spec: S, values: ResolvedConfig<S>): ResolvedConfig<S> {
  const out: Record<string, unknown> = { ...(values as Record<string, unknown>) };
  for (const key of spec.compiled) {
    const v = out[key.name];
    if (v === undefined) continue;
    if (key.definition.secret) out[key.name] = '***';
    else if (typeof v === 'string') out[key.name] = maskUrlSecrets(v);
  }
  return out as ResolvedConfig<S>;
}
