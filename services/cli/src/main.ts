// Process entry of the `kec` binary (bin/kec runs this file with Node).
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv, { env: process.env });
