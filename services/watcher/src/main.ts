// Runs the watcher alone: `node services/watcher/src/main.ts` (the same as `kec run watcher`).
import { runServices } from '@kec/runtime';
import { watcherService } from './index.ts';

await runServices([watcherService], { env: process.env, argv: process.argv.slice(2) });
