// Starts the Debian clickhouse-server (18.16 here) as a child process on free ports with its own temp config and
// data directory; stop() ends it, start() again reuses the same ports and data (server down, then up).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SERVER_BINARY =
  process.env.KEC_CLICKHOUSE_SERVER_BIN ??
  ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestServer {
  url: string;
  /** Server keep-alive timeout (seconds) written in the config. */
  keepAliveSeconds: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function clickhouseServer(opts: { keepAliveSeconds?: number } = {}): Promise<TestServer> {
  if (!SERVER_BINARY) throw new Error('clickhouse-server is not installed (./dev setup)');
  const dir = mkdtempSync(join(tmpdir(), 'kec-ch-'));
  const http = await freePort();
  const tcp = await freePort();
  const inter = await freePort();
  const keepAlive = opts.keepAliveSeconds ?? 3;
  for (const d of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${inter}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <keep_alive_timeout>${keepAlive}</keep_alive_timeout>
  <mark_cache_size>5368709</mark_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`,
  );
  const url = `http://127.0.0.1:${http}`;
  let child: ChildProcess | undefined;
  const server: TestServer = {
    url,
    keepAliveSeconds: keepAlive,
    async start() {
      const c = spawn(SERVER_BINARY, [`--config-file=${join(dir, 'config.xml')}`], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      child = c;
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`clickhouse-server exited with ${c.exitCode}`);
        try {
          const r = await fetch(`${url}/ping`);
          if (r.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error('clickhouse-server did not answer /ping within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    },
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
