// Throughput of the live-kernel oracle: N random 10-step sequences, each after a reset, pipelined.
//   npx tsx src/oracle/bench.ts [N] [--observe=each|end|none] [--cpu=K] [--seed=S]

import type { Step } from '../scenario/step.ts';
import { OracleClient, OracleUnavailable } from './client.ts';
import { formatEnv } from './format.ts';
import { randomSequence, rng } from './random.ts';

interface Args { n: number; observe: 'each' | 'end' | 'none'; cpu: number; seed: number }

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { n: 500, observe: 'each', cpu: 0, seed: 1 };
  for (const a of argv) {
    const [k, v = ''] = a.split('=');
    if (k === '--observe' && (v === 'each' || v === 'end' || v === 'none')) args.observe = v;
    else if (k === '--cpu') args.cpu = Number(v);
    else if (k === '--seed') args.seed = Number(v);
    else if (/^\d+$/.test(a)) args.n = Number(a);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

async function runSequence(c: OracleClient, steps: readonly Step[], observe: Args['observe']): Promise<void> {
  const work: Promise<unknown>[] = [c.reset()];
  for (const s of steps) {
    work.push(c.exec(s));
    if (observe === 'each') work.push(c.observe());
  }
  if (observe === 'end') work.push(c.observe());
  await Promise.all(work);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const c = await OracleClient.start({ cpu: args.cpu });
  console.log(formatEnv(c.env));
  const rand = rng(args.seed);
  const seqs = Array.from({ length: args.n }, () => randomSequence(rand, 10));
  const forks = seqs.flat().filter((s) => s.op === 'fork').length;
  await runSequence(c, seqs[0] ?? [], args.observe); // warm-up: page cache, binary, JIT
  const t0 = performance.now();
  for (const s of seqs) await runSequence(c, s, args.observe);
  const secs = (performance.now() - t0) / 1000;
  await c.close();
  console.log(`${args.n} sequences of 10 steps (${(forks / args.n).toFixed(2)} forks/seq), observe=${args.observe}: ` +
    `${(args.n / secs).toFixed(0)} sequences/s (${((secs / args.n) * 1000).toFixed(2)} ms each)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof OracleUnavailable ? e.message : e);
  process.exit(1);
});
