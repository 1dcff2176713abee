// Holds the embedded store's data directory (the store is "unavailable" to any other process) until SIGTERM.
// Usage: node hold-store.ts <dataDir>/clickhouse   prints HOLDING once it holds it.
import { ChdbStore } from '@kec/store';

const store = await ChdbStore.open({ dataDir: process.argv[2]! });
process.stdout.write('HOLDING\n');
process.on('SIGTERM', () => {
  void store.close().then(() => process.exit(0));
});
setInterval(() => {}, 1 << 30);
