// @kec/cli: the `kec` command. The binary is bin/kec; these exports serve tests and embedding.

export type { CliContext } from './program.ts';
export { buildProgram, EXIT_USAGE, runCli } from './program.ts';
export type { ServiceLoader } from './registry.ts';
export { registry } from './registry.ts';
export { loadServices, selectServices, UsageError } from './services.ts';
export { versionLines } from './version.ts';
