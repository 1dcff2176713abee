// @kec/chdb-http: a ClickHouse HTTP interface in front of embedded chdb, so that several processes (e.g. two
// writer replicas) share one real ClickHouse engine through @clickhouse/client.
//
//   import { startChdbHttp } from '@kec/chdb-http';
//   const ch = await startChdbHttp({ dataDir: '/tmp/ch' });   // 127.0.0.1, a free port
//   process.env.KEC_CLICKHOUSE_URL = ch.url;
//   await ch.close();

export type { ChdbHttpErrorOptions, CodeName } from './errors.ts';
export { ChdbHttpError, CODES, exceptionBody, fromEngineError, httpStatusFor } from './errors.ts';
export { bindValue } from './params.ts';
export type { ChdbHttp, ChdbHttpOptions } from './server.ts';
export { startChdbHttp } from './server.ts';
export type { Prepared, PrepareOptions, Setting } from './sql.ts';
export { prepareStatement } from './sql.ts';
