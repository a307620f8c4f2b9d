// `vmacheck fuzz --count N --seed S [--json] [--out FILE]`: random scenarios (fast-check) on the
// model and on the live kernel; the first divergence is shrunk to a minimal scenario, written to
// a file and printed. One oracle client for the whole run, closed on exit and on Ctrl-C.
// Exit codes: 0 no divergence, 1 a divergence, 2 oracle unavailable, 3 interrupted.

import { oracleUnavailableExit, startOracle } from './oracleSession.ts';
import { writeFileSync } from 'node:fs';
import pc from 'picocolors';
import { modelParams, type OracleEnv } from '../oracle/env.ts';
import { formatEnv, formatSnapshot } from '../oracle/format.ts';
import { formatMismatch, type Mismatch } from '../oracle/compare.ts';
import { runFuzz, scenarioText, type FuzzResult } from '../oracle/fuzz.ts';
import { renderState } from '../model/render.ts';
import type { Kernel } from '../model/kernel.ts';
import type { Patch } from '../model/patch.ts';
import { describeKernel, makeKernel, parseProfile } from './setup.ts';
import { EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_PASS, EXIT_VIOLATION } from './errors.ts';

export interface FuzzCommandOptions {
  count: number;
  seed?: number;
  profile?: string;
  patches: readonly Patch[];
  patchFiles: readonly string[];
  out?: string;
  json: boolean;
  /** Observe the kernel after every step (slower; also catches divergences that later steps erase). */
  each?: boolean;
}

export const DEFAULT_DIVERGENCE_FILE = 'vmacheck-divergence.vmt';

function indent(text: string, by = '    '): string {
  return text.split('\n').map((l) => `${by}${l}`).join('\n');
}

function side(m: Mismatch, which: 'model' | 'kernel'): string {
  return `${m.aspect}${m.where === '' ? '' : ` at ${m.where}`}: ${which === 'model' ? m.model : m.kernel}`;
}

function findingText(r: FuzzResult, env: OracleEnv, k: Kernel, opts: FuzzCommandOptions): string {
  const f = r.finding!;
  const d = f.divergence;
  const patchArgs = opts.patchFiles.map((p) => ` --patch ${p}`).join('');
  return scenarioText(f.steps, {
    env, profile: k.profile, kernelResults: f.kernelResults,
    header: [
      `vmacheck fuzz: minimal scenario on which the model and the live kernel diverge (seed ${r.seed}, count ${r.count})`,
      `kernel ${env.release}; model ${describeKernel(k)}`,
      `divergence after step ${d.stepNumber} (${d.text}): ${d.mismatch.aspect}${d.mismatch.where === '' ? '' : ` at ${d.mismatch.where}`}`,
      `  ${d.mismatch.explanation}`,
      `  model:  ${d.mismatch.model}`,
      `  kernel: ${d.mismatch.kernel}`,
      `steps failing on the kernel carry its errno ("-> ERRNO"); replay: vmacheck run --both${patchArgs} FILE`,
    ],
  });
}

export async function runFuzzCommand(opts: FuzzCommandOptions): Promise<number> {
  const seed = opts.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const client = await startOracle();
  if (client === null) return EXIT_BAD_INPUT;
  const env = client.env;
  const mp = modelParams(env);
  if (!mp.ok) {
    await client.close();
    process.stderr.write(`vmacheck: the live kernel cannot serve as oracle: ${mp.reason}\n`);
    return EXIT_BAD_INPUT;
  }
  let profile;
  try {
    profile = parseProfile(opts.profile, mp.params.profile);
  } catch (e) {
    await client.close();
    throw e;
  }
  const params = { zeroPage: mp.params.zeroPage, overcommit: mp.params.overcommit };
  const kernel = makeKernel(profile, params, opts.patches);

  // Ctrl-C: the client's own signal hook kills the helper tree; we report and exit "incomplete".
  let runs = 0;
  const onSigint = (): void => {
    process.stderr.write(`\nvmacheck: fuzz interrupted after ${runs} scenarios (seed ${seed})\n`);
    client.killNow();
    process.exit(EXIT_INCOMPLETE);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  if (!opts.json) {
    console.log(formatEnv(env));
    console.log(`model: ${describeKernel(kernel)}`);
    console.log(`fuzz: ${opts.count} random scenarios, seed ${seed}`);
  }
  const tty = process.stderr.isTTY === true && !opts.json;
  let lastPrint = 0;
  let result: FuzzResult;
  try {
    result = await runFuzz(client, () => makeKernel(profile, params, opts.patches), {
      count: opts.count, seed, observe: opts.each === true ? 'each' : 'fast',
      onProgress: (n, ms) => {
        runs = n;
        if (tty && ms - lastPrint > 500) {
          lastPrint = ms;
          process.stderr.write(`\r  ${n} scenarios, ${(n / (ms / 1000)).toFixed(0)}/s `);
        }
      },
    });
  } catch (e) {
    return oracleUnavailableExit(e);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (tty) process.stderr.write('\r\x1b[K');
    await client.close();
  }

  const divergences = result.finding === null ? 0 : 1;
  const file = opts.out ?? DEFAULT_DIVERGENCE_FILE;
  let text: string | null = null;
  if (result.finding !== null) {
    text = findingText(result, env, kernel, opts);
    writeFileSync(file, text);
  }
  if (opts.json) {
    const f = result.finding;
    const out: Record<string, unknown> = {
      seed: result.seed, count: result.count, divergences,
      seconds: Number(result.seconds.toFixed(3)),
      scenariosPerSecond: Number(result.scenariosPerSecond.toFixed(1)),
      scenariosRun: result.scenariosRun, numShrinks: result.numShrinks, flaky: result.flaky,
    };
    if (f !== null) {
      Object.assign(out, {
        scenario: text, file, step: f.divergence.stepNumber, stepText: f.divergence.text,
        aspect: f.divergence.mismatch.aspect, explanation: f.divergence.mismatch.explanation,
        model: side(f.divergence.mismatch, 'model'), kernel: side(f.divergence.mismatch, 'kernel'),
      });
    }
    console.log(JSON.stringify(out));
    return divergences > 0 ? EXIT_VIOLATION : EXIT_PASS;
  }

  const summary = `${result.scenariosRun} scenarios in ${result.seconds.toFixed(1)} s (${result.scenariosPerSecond.toFixed(0)} scenarios/s), `
    + `${divergences} divergence${divergences === 1 ? '' : 's'}`
    + (result.finding !== null ? ` (found after ${result.numRuns} random scenarios, ${result.numShrinks} shrinking steps)` : '')
    + (result.flaky > 0 ? `; ${result.flaky} difference(s) not reproduced by a replay (nondeterminism?)` : '');
  console.log(summary);
  if (result.finding === null) return EXIT_PASS;
  const d = result.finding.divergence;
  const lines = [
    pc.red(`DIVERGENCE after step ${d.stepNumber} of the minimal scenario: ${d.text}`),
    indent(formatMismatch(d.mismatch), '  '),
    ...d.notes.map((n) => `  note: ${n}`),
    '',
    `Minimal scenario (written to ${file}):`,
    '',
    text!,
    'Model state after the step:',
    indent(renderState(d.modelState)),
    'Kernel snapshot after the step:',
    d.kernelSnap === null ? '    (not observed)' : indent(formatSnapshot(d.kernelSnap)),
  ];
  console.log(lines.join('\n'));
  return EXIT_VIOLATION;
}
