// Secrets from a file or an environment variable. Values are never logged; errors name the source, not the value.
import { readFileSync } from 'node:fs';
import type { SecretRef } from './config.ts';
import { SecretError } from './errors.ts';

export interface SecretSource {
  /** Environment to read `{ env }` refs from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** Where a secret comes from, for messages: `file /run/secrets/x` or `env KEC_SLACK_URL`. */
export function describeSecret(ref: SecretRef): string {
  return 'file' in ref ? `file ${ref.file}` : `env ${ref.env}`;
}

/** Reads a secret: the file's content or the variable's value, surrounding whitespace removed; never empty. */
export function readSecret(ref: SecretRef, source: SecretSource = {}): string {
  let value: string | undefined;
  if ('file' in ref) {
    try {
      value = readFileSync(ref.file, 'utf8');
    } catch (cause) {
      throw new SecretError(`cannot read secret ${describeSecret(ref)}`, { cause });
    }
  } else {
    value = (source.env ?? process.env)[ref.env];
    if (value === undefined) throw new SecretError(`secret ${describeSecret(ref)} is not set`);
  }
  value = value.trim();
  if (value === '') throw new SecretError(`secret ${describeSecret(ref)} is empty`);
  return value;
}

/** A URL with its query string and credentials replaced, safe to log (webhook URLs carry tokens in path or query). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
