// Runs the alerter alone: `node services/alerter/src/main.ts` (the same as `kec run alerter`).
import { runServices } from '@kec/runtime';
import { alerterService } from './index.ts';

await runServices([alerterService], { env: process.env, argv: process.argv.slice(2) });
