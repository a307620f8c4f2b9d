// Counterexample traces: re-execute an action list from the model's initial state (which also
// validates it: every action must be enabled where it is applied) and print it as scenario-file
// text, one `model.describe(a)` line per action under a header comment.

import type { ExploreModel, Violation } from './model.ts';

export interface Replay<S> {
  /** states[0] is the initial state, states[i] the state after i actions. */
  states: S[];
  /** events[i] = witness event bits raised by action i. */
  events: number[];
  /** model.check on the last step (check(null, -1, initial) for an empty trace). */
  violation: Violation | null;
  /** The first step whose check failed (0 = the initial state, i = after action i), if any. */
  firstViolation: { step: number; violation: Violation } | null;
}

/** Thrown when an action of a trace is not enabled where it is applied. */
export class TraceReplayError extends Error {
  readonly step: number;
  constructor(message: string, step: number) {
    super(message);
    this.name = 'TraceReplayError';
    this.step = step;
  }
}

/** Re-execute `actions` from `model.initial()`, checking every step. */
export function replay<S>(model: ExploreModel<S>, actions: readonly number[]): Replay<S> {
  let s = model.initial();
  const states: S[] = [s];
  const events: number[] = [];
  let violation = model.check(null, -1, s);
  let firstViolation: Replay<S>['firstViolation'] = violation === null ? null : { step: 0, violation };
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (!Number.isInteger(a) || a < 0 || a >= model.actionCount) {
      throw new TraceReplayError(`trace step ${i + 1}: no action ${a}`, i + 1);
    }
    if (!model.enabled(s, a)) {
      throw new TraceReplayError(`trace step ${i + 1}: action ${a} (${model.describe(a)}) is not enabled`, i + 1);
    }
    const succ = model.successor(s, a);
    violation = model.check(s, a, succ.state);
    if (violation !== null && firstViolation === null) firstViolation = { step: i + 1, violation };
    s = succ.state;
    states.push(s);
    events.push(succ.events);
  }
  return { states, events, violation, firstViolation };
}

/** Prefix every line of `text` with "# ". */
export function commentLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => (l.length > 0 ? `# ${l}` : '#'));
}

/**
 * The actions as scenario-file text: `header` lines as comments (each prefixed with "# "),
 * then one line per action. Ends with a newline.
 */
export function formatScenario<S>(model: ExploreModel<S>, actions: readonly number[], header: string | readonly string[] = []): string {
  const head = typeof header === 'string' ? commentLines(header) : header.flatMap(commentLines);
  const lines = [...head, ...actions.map((a) => model.describe(a))];
  return lines.join('\n') + '\n';
}

/** A counterexample as scenario text, with a header naming the invariant, its message and the length. */
export function formatCounterexample<S>(
  model: ExploreModel<S>,
  violation: Violation & { trace: readonly number[] },
  extraHeader: readonly string[] = [],
): string {
  const n = violation.trace.length;
  const header = [
    `vmacheck counterexample: invariant ${violation.invariant} violated after ${n} step${n === 1 ? '' : 's'}`,
    violation.message,
    ...extraHeader,
  ];
  return formatScenario(model, violation.trace, header);
}
