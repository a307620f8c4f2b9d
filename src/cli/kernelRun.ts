// `vmacheck run --kernel FILE...`: the scenario files on the live kernel (every errno, every
// expect against the kernel's snapshot).
// `vmacheck run --both FILE...`: model and kernel step by step, compared after every step; the
// first divergence is printed with both sides.
// Exit codes: 0 all hold, 1 a failure or divergence, 2 oracle unavailable or bad input.

import pc from 'picocolors';
import { oracleUnavailableExit, startOracle } from './oracleSession.ts';
import { modelParams, type OracleEnv } from '../oracle/env.ts';
import { formatEnv, formatSnapshot } from '../oracle/format.ts';
import { formatMismatch } from '../oracle/compare.ts';
import { itemsFromScenario, runDifferential, runKernelOnly, unmetRequirement, type DiffOutcome } from '../oracle/differential.ts';
import { renderState } from '../model/render.ts';
import type { Patch } from '../model/patch.ts';
import type { Kernel } from '../model/kernel.ts';
import { readScenario } from './runCommand.ts';
import { describeKernel, makeKernel, parseProfile } from './setup.ts';
import { EXIT_BAD_INPUT, EXIT_PASS, EXIT_VIOLATION } from './errors.ts';

export interface KernelRunOptions {
  /** 'kernel': the kernel alone; 'both': model and kernel compared after every step. */
  mode: 'kernel' | 'both';
  /** Model profile override (--both); default: the running kernel's. */
  profile?: string;
  patches: readonly Patch[];
  json: boolean;
  quiet: boolean;
}

function indent(text: string, by = '    '): string {
  return text.split('\n').map((l) => `${by}${l}`).join('\n');
}

function where(file: string, line: number | null): string {
  return line === null ? file : `${file}:${line}`;
}

/** The model's kernel for --both: this machine's profile and parameters unless --profile overrides. */
function modelKernel(env: OracleEnv, opts: KernelRunOptions): Kernel | string {
  const mp = modelParams(env);
  if (!mp.ok) return `the live kernel cannot serve as oracle: ${mp.reason}`;
  const profile = parseProfile(opts.profile, mp.params.profile);
  return makeKernel(profile, { zeroPage: mp.params.zeroPage, overcommit: mp.params.overcommit }, opts.patches);
}

function printBothFailure(file: string, out: DiffOutcome): void {
  const d = out.divergence;
  if (d !== null) {
    const lines = [
      pc.red(`DIVERGENCE ${where(file, d.line)}: after step ${d.stepNumber}: ${d.text}`),
      indent(formatMismatch(d.mismatch), '  '),
    ];
    for (const o of d.others.slice(0, 4)) lines.push(indent(`also ${formatMismatch(o)}`, '  '));
    if (d.others.length > 4) lines.push(`  (${d.others.length - 4} more differences)`);
    for (const n of d.notes) lines.push(`  note: ${n}`);
    lines.push('  model state after the step:', indent(renderState(d.modelState)));
    lines.push('  kernel snapshot after the step:', d.kernelSnap === null ? '    (not observed)' : indent(formatSnapshot(d.kernelSnap)));
    console.log(lines.join('\n'));
    return;
  }
  const f = out.expectFailure!;
  const lines = [
    pc.red(`FAIL ${where(file, f.line)}: ${f.text}  (${f.side === 'kernel' ? 'the live kernel' : 'the model'} does not meet it)`),
    `  expected: ${f.expected}`,
    `  actual:   ${f.actual}`,
    '  kernel snapshot:', f.kernelSnap === null ? '    (not observed)' : indent(formatSnapshot(f.kernelSnap)),
    '  model state:', indent(renderState(f.modelState)),
  ];
  console.log(lines.join('\n'));
}

/** Runs the files on the live kernel (alone or against the model). */
export async function runKernelFiles(files: readonly string[], opts: KernelRunOptions): Promise<number> {
  // Bad input first (exit 2 before starting anything): unreadable files, syntax, an unknown profile.
  const scenarios = files.map((f) => ({ file: f, sc: readScenario(f) }));
  if (opts.profile !== undefined) parseProfile(opts.profile, 'v6.18');
  const client = await startOracle();
  if (client === null) return EXIT_BAD_INPUT;
  try {
    const env = client.env;
    let kernel: Kernel | null = null;
    if (opts.mode === 'both') {
      const k = modelKernel(env, opts);
      if (typeof k === 'string') {
        process.stderr.write(`vmacheck: ${k}\n`);
        return EXIT_BAD_INPUT;
      }
      kernel = k;
    }
    if (!opts.json) {
      console.log(formatEnv(env));
      if (kernel !== null) console.log(`model: ${describeKernel(kernel)}`);
    }
    let failed = 0;
    const results: object[] = [];
    for (const { file, sc } of scenarios) {
      const skip = unmetRequirement(sc, env);
      if (skip !== null) {
        if (opts.json) results.push({ file, skipped: skip });
        else console.log(`skipped: ${file}: ${skip}`);
        continue;
      }
      const items = itemsFromScenario(sc);
      if (opts.mode === 'kernel') {
        const out = await runKernelOnly(client, items, file);
        if (out.failure !== null) failed++;
        if (opts.json) {
          const f = out.failure;
          results.push({ file, pass: f === null, failure: f === null ? null : { line: f.line, text: f.text, expected: f.expected, actual: f.actual, kernel: f.kernelSnap === null ? null : formatSnapshot(f.kernelSnap) } });
        } else if (out.failure !== null) {
          const f = out.failure;
          console.log([
            pc.red(`FAIL ${where(file, f.line)}: ${f.text}`),
            `  expected: ${f.expected}`,
            `  actual:   ${f.actual}`,
            '  kernel snapshot:', f.kernelSnap === null ? '    (not observed)' : indent(formatSnapshot(f.kernelSnap)),
          ].join('\n'));
        } else if (!opts.quiet) {
          console.log(`${pc.green('PASS')} ${file} (${out.itemsRun} lines on the live kernel)`);
        }
        continue;
      }
      // A fresh model per file (patches may keep state in closures; the Kernel object is cheap).
      const k = modelKernel(env, opts) as Kernel;
      const out = await runDifferential(client, k, items, { observe: 'each', checkExpects: true, file });
      const bad = out.divergence !== null || out.expectFailure !== null;
      if (bad) failed++;
      if (opts.json) {
        const d = out.divergence;
        const f = out.expectFailure;
        results.push({
          file, pass: !bad,
          divergence: d === null ? null : {
            line: d.line, step: d.stepNumber, text: d.text, aspect: d.mismatch.aspect, where: d.mismatch.where,
            explanation: d.mismatch.explanation, model: d.mismatch.model, kernel: d.mismatch.kernel, notes: d.notes,
          },
          failure: f === null ? null : { line: f.line, text: f.text, side: f.side, expected: f.expected, actual: f.actual },
        });
      } else if (bad) {
        printBothFailure(file, out);
      } else if (!opts.quiet) {
        console.log(`${pc.green('PASS')} ${file} (${out.itemsRun} lines; no divergence, every expect holds on model and kernel)`);
      }
    }
    if (opts.json) {
      const head = { env, model: kernel === null ? null : { profile: kernel.profile, params: kernel.params, patches: kernel.patches } };
      console.log(JSON.stringify({ ...head, results }));
    }
    return failed > 0 ? EXIT_VIOLATION : EXIT_PASS;
  } catch (e) {
    return oracleUnavailableExit(e);
  } finally {
    await client.close();
  }
}
