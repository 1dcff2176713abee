// @kec/config: configuration from KEC_* env vars and an optional YAML file, described by TypeBox schemas.
//
//   import Type from 'typebox';
//   import { defineConfig, loadConfig } from '@kec/config';
//   export const watcherConfig = defineConfig({
//     section: 'watcher', // env KEC_WATCHER_*, YAML `watcher:` mapping
//     keys: { pageSize: { schema: Type.Integer({ minimum: 1, maximum: 5000 }), default: 500, description: 'LIST page size.' } },
//   });
//   const cfg = loadConfig(watcherConfig, { env: process.env }); // { pageSize: number }

export type { ConfigErrorOptions, ConfigSource } from './errors.ts';
export { ConfigError } from './errors.ts';
export type { LoadConfigOptions, ResolvedEntry } from './load.ts';
export {
  CONFIG_ERROR_EXIT_CODE,
  formatConfigError,
  loadConfig,
  loadConfigOrExit,
  maskUrlSecrets,
  redactConfig,
  resolveConfig,
} from './load.ts';
export type { SharedConfigValues } from './shared.ts';
export { LOG_LEVELS, sharedConfigSpec } from './shared.ts';
export type {
  CompiledKey,
  ConfigSpec,
  ConfigSpecInput,
  KeyDefinition,
  ResolvedConfig,
  UrlSchemaOptions,
} from './spec.ts';
export { defineConfig, urlSchema } from './spec.ts';
export { renderConfigTable } from './table.ts';
