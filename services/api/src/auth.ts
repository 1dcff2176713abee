// Bearer tokens with scopes. Only the sha256 of a token is configured and kept; a presented token is hashed and
// looked up. Token values are never logged (the Authorization header is redacted from every log line).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@kec/config';

export type Scope = 'read' | 'sql' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'sql', 'admin'];

export interface TokenEntry {
  name: string;
  scopes: ReadonlySet<Scope>;
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token and its configuration line. */
export function newToken(name: string, scopes: readonly Scope[]): { token: string; line: string } {
  const token = `kec_${randomBytes(24).toString('base64url')}`;
  return { token, line: `${sha256Hex(token)} ${scopes.join(',')} ${name}` };
}

/**
 * Parses token lines `<sha256 hex> <scopes> <name>` (blank lines and `#` comments skipped). `where` names the
 * source in errors; an error never echoes the line (it holds a hash only, but the format may be mistaken for a
 * plain token).
 */
export function parseTokenLines(text: string, where: string, key: string): Map<string, TokenEntry> {
  const out = new Map<string, TokenEntry>();
  text.split(/[\n;]/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [hash, scopes, ...rest] = line.split(/\s+/);
    const name = rest.join(' ') || `token-${i + 1}`;
    if (!hash || !/^[0-9a-f]{64}$/i.test(hash)) {
      throw new ConfigError({
        key,
        reason: `entry ${i + 1} of ${where} must start with the sha256 hex of the token (64 hex digits), not the token itself`,
      });
    }
    const set = new Set<Scope>();
    for (const s of (scopes ?? '').split(',')) {
      if (!SCOPES.includes(s as Scope)) {
        throw new ConfigError({ key, reason: `entry ${i + 1} of ${where} has scope "${s}" (valid: read, sql, admin)` });
      }
      set.add(s as Scope);
    }
    out.set(hash.toLowerCase(), { name, scopes: set });
  });
  return out;
}

export class TokenStore {
  readonly #byHash: Map<string, TokenEntry>;
  readonly anonymous: TokenEntry | undefined;
  constructor(byHash: Map<string, TokenEntry>, anonymous: boolean) {
    this.#byHash = byHash;
    this.anonymous = anonymous ? { name: 'anonymous', scopes: new Set<Scope>(['read', 'sql']) } : undefined;
  }

  static load(opts: { file?: string | undefined; env: string; anonymous: boolean }): TokenStore {
    const map = new Map<string, TokenEntry>();
    if (opts.file) {
      let text: string;
      try {
        text = readFileSync(opts.file, 'utf8');
      } catch (err) {
        throw new ConfigError({
          key: 'KEC_API_TOKENS_FILE',
          reason: `cannot read ${opts.file}: ${(err as Error).message}`,
          cause: err,
        });
      }
      for (const [k, v] of parseTokenLines(text, opts.file, 'KEC_API_TOKENS_FILE')) map.set(k, v);
    }
    for (const [k, v] of parseTokenLines(opts.env, 'KEC_API_TOKENS', 'KEC_API_TOKENS')) map.set(k, v);
    return new TokenStore(map, opts.anonymous);
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** The entry of a presented token, or undefined. */
  lookup(token: string): TokenEntry | undefined {
    return this.#byHash.get(sha256Hex(token));
  }
}

/** Whether an entry may use a route needing `scope` (admin may do everything). */
export function allowed(entry: TokenEntry, scope: Scope): boolean {
  return entry.scopes.has('admin') || entry.scopes.has(scope);
}
