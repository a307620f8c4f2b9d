// Counterexamples as scenario files: re-execute the actions from the initial state (setup lines
// first), annotating failed steps with their errno so `vmacheck run` replays exactly.

import { cloneState, type State } from '../model/state.ts';
import { applyStep } from '../model/syscalls.ts';
import { stepToLine } from '../scenario/print.ts';
import type { StepResult } from '../scenario/step.ts';
import type { Kernel } from '../model/kernel.ts';
import type { KernelModel } from './kernelModel.ts';

export interface KernelTrace {
  /** The scenario text (header comments, profile and params lines, setup, steps). */
  text: string;
  /** States before each action and after the last: states[i] is before action i. */
  states: State[];
  results: StepResult[];
}

export function paramsLine(k: Kernel): string {
  return `params ${k.params.zeroPage ? 'zero-page' : 'no-zero-page'} overcommit=${k.params.overcommit}`;
}

export function kernelTrace(model: KernelModel, actions: readonly number[], header: readonly string[], setup: readonly string[]): KernelTrace {
  const k = model.kernel;
  let s = model.initial();
  const states: State[] = [s];
  const results: StepResult[] = [];
  const lines = [...header.map((h) => `# ${h}`), `profile ${k.profile}`, paramsLine(k)];
  if (setup.length > 0) lines.push('# setup', ...setup, '# steps');
  for (const a of actions) {
    const step = model.actions[a]!;
    s = cloneState(s);
    k.events = 0;
    const r = applyStep(k, s, step);
    results.push(r);
    states.push(s);
    lines.push(r.errno === null ? stepToLine(step) : `${stepToLine(step)} -> ${r.errno}`);
  }
  return { text: `${lines.join('\n')}\n`, states, results };
}
