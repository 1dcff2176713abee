// chdb-http: serve one chdb data directory over ClickHouse's HTTP interface.
//   node tools/chdb-http/src/main.ts --data-dir DIR [--host 127.0.0.1] [--port 0] [--setting NAME=VALUE ...]
// --setting: a server setting of the engine over kec's bounds of the embedded engine (EMBEDDED_SERVER_SETTINGS).
// Prints one line `chdb-http listening on http://HOST:PORT`; SIGTERM/SIGINT close the server and the engine, exit 0.
import { parseArgs } from 'node:util';
import { startChdbHttp } from './server.ts';

const usage = 'usage: chdb-http --data-dir DIR [--host 127.0.0.1] [--port 0] [--setting NAME=VALUE ...]\n';
let values: { 'data-dir'?: string; host?: string; port?: string; setting?: string[]; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      setting: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`chdb-http: ${(err as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const port = Number(values.port);
if (!values['data-dir'] || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(
    `chdb-http: ${values['data-dir'] ? `bad --port ${values.port}` : '--data-dir is required'}\n${usage}`,
  );
  process.exit(2);
}

const engineSettings: Record<string, string> = {};
for (const kv of values.setting ?? []) {
  const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(.*)$/.exec(kv);
  if (!m) {
    process.stderr.write(`chdb-http: bad --setting ${kv} (NAME=VALUE)\n${usage}`);
    process.exit(2);
  }
  engineSettings[m[1] as string] = m[2] as string;
}

let server: Awaited<ReturnType<typeof startChdbHttp>>;
try {
  server = await startChdbHttp({ dataDir: values['data-dir'], host: values.host, port, engineSettings });
} catch (err) {
  process.stderr.write(`chdb-http: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`chdb-http listening on ${server.url}\n`);

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`chdb-http: error while stopping on ${signal}: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
