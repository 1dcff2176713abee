// `kec version`: what is running, for bug reports.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dependencies whose versions matter when reporting a bug. */
export const KEY_DEPENDENCIES = [
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  '@kubernetes/client-node',
  'typebox',
  'pino',
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  'commander',
  'yaml',
] as const;

function readJson(path: string): { name?: string; version?: string } {
  return JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
}

export function kecVersion(): string {
  const pkg = readJson(fileURLToPath(new URL('../package.json', import.meta.url)));
  return pkg.version ?? 'unknown';
}

/** The installed version as Node would resolve it from the CLI, or undefined when not installed. */
export function installedVersion(name: string): string | undefined {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(name));
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = readJson(file);
      if (pkg.name === name) return pkg.version;
    }
  }
  return undefined;
}

/** `name version` lines: kec, node, then the key dependencies. */
export function versionLines(): string[] {
  const lines = [`kec ${kecVersion()}`, `node ${process.versions.node}`];
  for (const dep of KEY_DEPENDENCIES) lines.push(`${dep} ${installedVersion(dep) ?? '(not installed)'}`);
  return lines;
}
