// `kec rules check FILE` through the real CLI program.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '@kec/cli';

test('rules check - a valid file passes, an invalid one prints file:line, rule id and JSON path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kec-rules-cli-'));
  try {
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    const rule = (sev: string) =>
      `apiVersion: kec.rules/v1\nversion: "7"\nrules:\n  - id: mine\n    match: { reason: BackOff }\n    severity: ${sev}\n    category: health\n    actionable: true\n`;
    writeFileSync(good, rule('critical'));
    writeFileSync(bad, rule('huge'));
    let out = '';
    let err = '';
    const ctx = { env: {}, stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    assert.equal(await runCli(['node', 'kec', 'rules', 'check', good], ctx), 0);
    assert.match(out, /good\.yaml: ok \(1 rules; rule set 2026\.12\.1\+7/);
    const orig = process.stderr.write.bind(process.stderr);
    let captured = '';
    process.stderr.write = ((c: string) => {
      captured += c;
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runCli(['node', 'kec', 'rules', 'check', bad], ctx);
    } finally {
      process.stderr.write = orig;
    }
    assert.notEqual(code, 0);
    assert.match(
      captured + err,
      /bad\.yaml:6: rule mine \/rules\/0\/severity: must be one of info, warning, error, critical/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
