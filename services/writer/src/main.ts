// Runs the writer alone: `node services/writer/src/main.ts` (the same as `kec run writer`).
import { runServices } from '@kec/runtime';
import { writerService } from './index.ts';

await runServices([writerService], { env: process.env, argv: process.argv.slice(2) });
