// The CLI as a process: the listening line, one process per data directory, SIGTERM/SIGINT exit 0, data kept, the
// engine's server settings.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';
import { EMBEDDED_SERVER_SETTINGS } from '@kec/store/settings';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kec-chdb-http-cli-'));
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(...args: string[]): ChildProcess {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** The first stdout line, or the exit, whichever comes first (bounded by a deadline). */
async function firstLine(child: ChildProcess, ms = 30_000): Promise<string> {
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line within ${ms} ms; stderr: ${err}`)), ms);
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        Object.assign(new Error(`exited ${code} before printing; stderr: ${err}`), { exitCode: code, stderr: err }),
      );
    });
  });
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

describe('chdb-http cli', () => {
  test('cli - prints where it listens, owns its directory, exits 0 on SIGTERM and SIGINT with the data kept', async () => {
    const data = join(dir, 'data');
    const first = start('--data-dir', data, '--port', '0');
    const line = await firstLine(first);
    const m = /^chdb-http listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
    assert.ok(m, line);
    const url = m[1] as string;
    const client = createClient({ url });
    await client.command({ query: 'CREATE TABLE kept (a UInt8) ENGINE = MergeTree ORDER BY a' });
    await client.insert({ table: 'kept', values: [{ a: 5 }], format: 'JSONEachRow' });
    await client.close();

    // a second process cannot open the same directory
    const second = start('--data-dir', data);
    await assert.rejects(firstLine(second), (e: { exitCode?: number; stderr?: string }) => {
      assert.equal(e.exitCode, 1);
      assert.match(e.stderr ?? '', /cannot start/);
      return true;
    });

    first.kill('SIGTERM');
    assert.equal(await exitOf(first), 0);

    const third = start('--data-dir', data);
    const url3 = /on (http\S+)$/.exec(await firstLine(third))?.[1] as string;
    const c3 = createClient({ url: url3 });
    const rows = await (await c3.query({ query: 'SELECT a FROM kept', format: 'JSONEachRow' })).json();
    assert.deepEqual(rows, [{ a: 5 }]);
    await c3.close();
    third.kill('SIGINT');
    assert.equal(await exitOf(third), 0);
  });

  test('cli - the engine runs with the memory bounds of @kec/store; --setting overrides one, a malformed one is a usage error', async () => {
    const child = start('--data-dir', join(dir, 'settings'), '--setting', 'mark_cache_size=12345678');
    const url = /on (http\S+)$/.exec(await firstLine(child))?.[1] as string;
    const client = createClient({ url });
    const rows = await (
      await client.query({
        query:
          "SELECT name, value FROM system.server_settings WHERE name IN ('mark_cache_size', 'max_server_memory_usage', 'query_condition_cache_size') ORDER BY name",
        format: 'JSONEachRow',
      })
    ).json<{ name: string; value: string }>();
    await client.close();
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.name, Number(r.value)])), {
      mark_cache_size: 12345678,
      max_server_memory_usage: Number(EMBEDDED_SERVER_SETTINGS.max_server_memory_usage),
      query_condition_cache_size: Number(EMBEDDED_SERVER_SETTINGS.query_condition_cache_size),
    });
    child.kill('SIGTERM');
    assert.equal(await exitOf(child), 0);

    const bad = start('--data-dir', join(dir, 'settings'), '--setting', 'no value');
    await assert.rejects(firstLine(bad), (e: { exitCode?: number; stderr?: string }) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.stderr ?? '', /bad --setting/);
      return true;
    });
  });

  test('cli - a missing --data-dir is a usage error (exit 2)', async () => {
    const child = start('--port', '0');
    await assert.rejects(firstLine(child), (e: { exitCode?: number; stderr?: string }) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.stderr ?? '', /--data-dir is required/);
      return true;
    });
  });
});
