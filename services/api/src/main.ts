// Runs the API alone: `node services/api/src/main.ts` (the same as `kec run api`).
import { runServices } from '@kec/runtime';
import { apiService } from './index.ts';

await runServices([apiService], { env: process.env, argv: process.argv.slice(2) });
