// Runs the correlator alone: `node services/correlator/src/main.ts` (the same as `kec run correlator`).
import { runServices } from '@kec/runtime';
import { correlatorService } from './index.ts';

await runServices([correlatorService], { env: process.env, argv: process.argv.slice(2) });
