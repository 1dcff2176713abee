// Runs the enricher alone: `node services/enricher/src/main.ts` (the same as `kec run enricher`).
import { runServices } from '@kec/runtime';
import { enricherService } from './index.ts';

await runServices([enricherService], { env: process.env, argv: process.argv.slice(2) });
