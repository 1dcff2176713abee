// Prints the top self-time functions of V8 .cpuprofile files: node e2e/src/prof-top.ts DIR [N]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const dir = process.argv[2] ?? '.';
const n = Number(process.argv[3] ?? 12);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: Node[] };
  const total = p.nodes.reduce((s, x) => s + (x.hitCount ?? 0), 0);
  const by = new Map<string, number>();
  for (const x of p.nodes) {
    const u = x.callFrame.url.replace(/^.*\/(node_modules|libs|services|tools)\//, '$1/');
    const k = `${x.callFrame.functionName || '(anon)'} ${u}:${x.callFrame.lineNumber}`;
    by.set(k, (by.get(k) ?? 0) + (x.hitCount ?? 0));
  }
  console.log(`\n${f} (${total} samples)`);
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}
