// `kec reclassify --since 30d [--rules FILE...] [--dry-run]`: re-applies the current rule set to stored history
// (see reclassify.ts). Opens the configured store like `kec migrate` (KEC_CLICKHOUSE_URL, else the embedded store
// under KEC_DATA_DIR, which must not be held by a running writer). The rules are the correlator's
// (KEC_CORRELATOR_RULES_FILES) unless --rules names files; progress goes to stderr, the summary to stdout.
import { join } from 'node:path';
import type { Command } from 'commander';

export interface ReclassifyCommandContext {
  env: Record<string, string | undefined>;
  configFile: (cmd: Command) => string | undefined;
  out: (text: string) => void;
  note: (text: string) => void;
  fail: (code: number, message: string) => never;
}

interface Opts {
  since: string;
  rules?: string[];
  dryRun?: boolean;
  batch: string;
  checkpoint?: string;
}

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function addReclassifyCommand(program: Command, ctx: ReclassifyCommandContext): void {
  program
    .command('reclassify')
    .description(
      're-apply the current classification rules and fingerprints to stored events (severity, category, fields, fingerprint, ruleset_version); resumable, idempotent',
    )
    .option('--since <age>', 'events whose last occurrence is newer than this (30d, 12h) or an RFC 3339 time', '30d')
    .option('--rules <file...>', 'rule files on top of the defaults (default: the correlator rules files)')
    .option('--dry-run', 'print what would change, write nothing')
    .option('--batch <n>', 'events per batch', '1000')
    .option(
      '--checkpoint <file>',
      'progress of an interrupted run, resumed by the next run with the same rules (default: <data dir>/reclassify.checkpoint.json)',
    )
    .action(async (opts: Opts, cmd: Command) => {
      const { ConfigError, formatConfigError, CONFIG_ERROR_EXIT_CODE, loadConfig, sharedConfigSpec } = await import(
        '@kec/config'
      );
      const { correlatorConfig } = await import('@kec/correlator');
      const { writerConfig } = await import('@kec/writer');
      const { RuleSet, RuleFileError, formatProblem } = await import('@kec/rules');
      const { clickhouseSecurity, openStore } = await import('@kec/store');
      const { formatReclassify, parseSince, reclassify } = await import('./reclassify.ts');
      const file = ctx.configFile(cmd);
      let shared: ReturnType<typeof loadConfig<typeof sharedConfigSpec>>;
      let rulesFiles: string[];
      let database: string;
      try {
        shared = loadConfig(sharedConfigSpec, { env: ctx.env, file });
        rulesFiles = opts.rules ?? csv(loadConfig(correlatorConfig, { env: ctx.env, file }).rulesFiles);
        database = loadConfig(writerConfig, { env: ctx.env, file }).database;
      } catch (err) {
        if (err instanceof ConfigError) ctx.fail(CONFIG_ERROR_EXIT_CODE, formatConfigError(err));
        throw err;
      }
      const batch = Number(opts.batch);
      if (!Number.isInteger(batch) || batch < 1) ctx.fail(2, `kec: --batch ${opts.batch}: expected a positive integer`);
      let sinceMs: number;
      try {
        sinceMs = parseSince(opts.since, Date.now());
      } catch (err) {
        ctx.fail(2, `kec: ${(err as Error).message}`);
      }
      let rules: InstanceType<typeof RuleSet>;
      try {
        rules = RuleSet.load(rulesFiles);
      } catch (err) {
        if (err instanceof RuleFileError) ctx.fail(1, err.problems.map(formatProblem).join('\n'));
        throw err;
      }
      const store = await openStore({
        clickhouseUrl: shared.clickhouseUrl,
        security: clickhouseSecurity(shared),
        dataDir: shared.dataDir,
        database,
      });
      try {
        let lastPct = -1;
        const r = await reclassify({
          store,
          rules,
          sinceMs,
          dryRun: opts.dryRun ?? false,
          batchSize: batch,
          checkpointFile: opts.checkpoint ?? join(shared.dataDir, 'reclassify.checkpoint.json'),
          onProgress: (p) => {
            const pct = p.total ? Math.floor((100 * p.scanned) / p.total) : 100;
            if (pct === lastPct) return;
            lastPct = pct;
            ctx.note(`reclassify: ${p.scanned}/${p.total} events (${pct}%), ${p.changed} changed\n`);
          },
        });
        ctx.out(formatReclassify(r));
      } finally {
        await store.close();
      }
    });
}
