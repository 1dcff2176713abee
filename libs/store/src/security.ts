// Credentials and TLS of the ClickHouse HTTP connection. The password goes to the client as an option, never in a
// URL that is logged or put in an error.
import { readFileSync } from 'node:fs';
import { StoreError } from './errors.ts';

/** The KEC_CLICKHOUSE_* credential and TLS keys. */
export interface ClickHouseSecurity {
  user?: string | undefined;
  password?: string | undefined;
  /** PEM CA bundle that signs the server's certificate (an https:// URL). */
  tlsCaFile?: string | undefined;
  /** PEM client certificate and key (mutual TLS; needs tlsCaFile too, as @clickhouse/client does). */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

/** The shared-config fields `clickhouseSecurity` reads (structurally: @kec/store does not depend on @kec/config). */
export interface ClickHouseSecurityConfig {
  clickhouseUser?: string | undefined;
  clickhousePassword?: string | undefined;
  clickhouseTlsCaFile?: string | undefined;
  clickhouseTlsCertFile?: string | undefined;
  clickhouseTlsKeyFile?: string | undefined;
}

export function clickhouseSecurity(c: ClickHouseSecurityConfig): ClickHouseSecurity {
  return {
    user: c.clickhouseUser,
    password: c.clickhousePassword,
    tlsCaFile: c.clickhouseTlsCaFile,
    tlsCertFile: c.clickhouseTlsCertFile,
    tlsKeyFile: c.clickhouseTlsKeyFile,
  };
}

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new StoreError(`ClickHouse: cannot read the TLS file ${path}`, { cause, retryable: false });
  }
}

/** The `url`, `username`, `password` and `tls` options of `createClient`. Explicit credentials replace the URL's. */
export function clickhouseConnection(
  url: string,
  sec: ClickHouseSecurity = {},
): { url: string; username?: string; password?: string; tls?: { ca_cert: Buffer; cert?: Buffer; key?: Buffer } } {
  const out: ReturnType<typeof clickhouseConnection> = { url };
  if (sec.user !== undefined || sec.password !== undefined) {
    const u = new URL(url);
    const urlUser = decodeURIComponent(u.username);
    u.username = '';
    u.password = '';
    out.url = u.toString();
    out.username = sec.user ?? (urlUser === '' ? 'default' : urlUser);
    if (sec.password !== undefined) out.password = sec.password;
  }
  if ((sec.tlsCertFile === undefined) !== (sec.tlsKeyFile === undefined)) {
    throw new StoreError('ClickHouse: a TLS client certificate and its key are set together', { retryable: false });
  }
  if (sec.tlsCertFile !== undefined && sec.tlsCaFile === undefined) {
    throw new StoreError('ClickHouse: a TLS client certificate needs KEC_CLICKHOUSE_TLS_CA_FILE too', {
      retryable: false,
    });
  }
  if (sec.tlsCaFile !== undefined) {
    if (!out.url.startsWith('https://')) {
      throw new StoreError('ClickHouse: TLS files are set but KEC_CLICKHOUSE_URL is not https://', {
        retryable: false,
      });
    }
    const tls: { ca_cert: Buffer; cert?: Buffer; key?: Buffer } = { ca_cert: read(sec.tlsCaFile) };
    if (sec.tlsCertFile !== undefined && sec.tlsKeyFile !== undefined) {
      tls.cert = read(sec.tlsCertFile);
      tls.key = read(sec.tlsKeyFile);
    }
    out.tls = tls;
  }
  return out;
}
