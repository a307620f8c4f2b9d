// `vmacheck run FILE...`: replay scenario files on the model and check every expect and invariant.

import { readFileSync } from 'node:fs';
import pc from 'picocolors';
import { parseScenario } from '../scenario/parse.ts';
import { runScenario, type RunOutcome } from '../scenario/run.ts';
import { renderState } from '../model/render.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Invariant } from '../invariants/index.ts';
import type { Patch } from '../model/patch.ts';
import type { Params } from '../model/kernel.ts';
import type { ProfileName } from '../model/profiles/index.ts';
import { describeKernel, hostDefaults, makeKernel, parseProfile } from './setup.ts';
import { EXIT_PASS, EXIT_VIOLATION, UsageError } from './errors.ts';

export interface RunOptions {
  profile?: string;
  zeroPage?: boolean;
  invariants: readonly Invariant[];
  patches: readonly Patch[];
  json: boolean;
  quiet: boolean;
  /** Go on after a broken invariant and report every invariant that breaks, where it first does. */
  keepGoing?: boolean;
}

export function readScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read scenario file ${file}`);
  }
  return parseScenario(text, file);
}

/** Profile and parameters for one scenario: command line over the file's lines over the host. */
export function scenarioSetup(sc: Scenario, opts: Pick<RunOptions, 'profile' | 'zeroPage'>): { profile: ProfileName; params: Params } {
  const host = hostDefaults();
  const profile = parseProfile(opts.profile ?? sc.profile ?? undefined, host.profile);
  const params: Params = { ...host.params };
  // A scenario that requires a zero-page setting describes that machine.
  if (sc.requires.includes('no-zero-page')) params.zeroPage = false;
  if (sc.requires.includes('zero-page')) params.zeroPage = true;
  if (sc.params.zeroPage !== undefined) params.zeroPage = sc.params.zeroPage;
  if (sc.params.overcommit !== undefined) params.overcommit = sc.params.overcommit;
  if (opts.zeroPage !== undefined) params.zeroPage = opts.zeroPage;
  return { profile, params };
}

export function formatFailure(sc: Scenario, out: RunOutcome): string {
  const f = out.failure!;
  const lines = [
    pc.red(`FAIL ${sc.file}:${f.line}: ${f.text}`),
    f.kind === 'invariant' ? `  invariant ${f.invariant} broken: ${f.actual}` : `  expected: ${f.expected}\n  actual:   ${f.actual}`,
  ];
  if (f.kind === 'invariant' && out.before !== null) lines.push('  state before the step:', indent(renderState(out.before)));
  lines.push(f.kind === 'expect' ? '  state:' : '  state after the step:', indent(renderState(out.state)));
  return lines.join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

export function runFiles(files: string[], opts: RunOptions): number {
  let failed = 0;
  const results: object[] = [];
  for (const file of files) {
    const sc = readScenario(file);
    const { profile, params } = scenarioSetup(sc, opts);
    const k = makeKernel(profile, params, opts.patches);
    const out = runScenario(k, sc, opts.invariants, opts.keepGoing === true);
    if (out.failure !== null) failed++;
    if (opts.json) {
      results.push({ file, profile: k.profile, params: k.params, patches: k.patches, pass: out.failure === null, failure: out.failure, ...(opts.keepGoing === true ? { broken: out.broken } : {}) });
    } else if (out.failure !== null && opts.keepGoing === true && out.failure.kind === 'invariant') {
      console.log(describeKernel(k));
      console.log(pc.red(`FAIL ${sc.file}: ${out.broken.length} invariant${out.broken.length === 1 ? '' : 's'} broken`));
      for (const b of out.broken) console.log(`  line ${b.line} (${b.text}): ${b.invariant}: ${b.actual}`);
      console.log('  state at the end:', `\n${indent(renderState(out.state))}`);
    } else if (out.failure !== null) {
      console.log(describeKernel(k));
      console.log(formatFailure(sc, out));
    } else if (!opts.quiet) {
      console.log(`${pc.green('PASS')} ${file} (${out.linesRun} lines; ${describeKernel(k)})`);
    }
  }
  if (opts.json) console.log(JSON.stringify(files.length === 1 ? results[0] : results));
  return failed > 0 ? EXIT_VIOLATION : EXIT_PASS;
}
