// Rendering of exploration results: human-readable text (coloured only for a TTY) and the JSON
// object the CLI prints with --json (the caller merges in its own fields: profile, params, spec).

import pc from 'picocolors';
import { match } from 'ts-pattern';
import type { ExploreModel } from './model.ts';
import type { BfsResult, CollisionProbability } from './bfs.ts';
import type { RandomResult } from './random.ts';
import { formatCounterexample } from './trace.ts';
import { formatBytes, formatInt, formatProbability, formatSeconds } from './format.ts';

export interface ReportOptions {
  /** Leave the counterexample out (the caller prints its own, e.g. with setup lines and errnos). */
  omitTrace?: boolean;
  /** Aggregate per-action counts under these names (e.g. the operation) instead of listing every action. */
  groupActions?: (a: number) => string;
  /** Use colours (default: whether process.stdout is a TTY). */
  color?: boolean;
  /** Extra header comment lines for the counterexample scenario text. */
  traceHeader?: readonly string[];
  /** Show at most this many action-count lines (most applied first when cut; default: all, in action order). */
  maxActionLines?: number;
}

export interface ViolationJson {
  invariant: string;
  message: string;
  /** The counterexample as scenario-file text. */
  trace: string;
  depth: number;
}

export interface ExploreJson {
  verdict: BfsResult['verdict'];
  reason: BfsResult['reason'];
  exhausted: boolean;
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  statesPerSecond: number;
  bytesPerState: number;
  statesPerLevel: number[];
  witnesses: Record<string, number | null>;
  /** Times each action was applied, keyed by model.describe(a). */
  actionCounts: Record<string, number>;
  collisionProbability: CollisionProbability;
  violation?: ViolationJson;
  [extra: string]: unknown;
}

function colours(color: boolean | undefined) {
  return pc.createColors(color ?? process.stdout.isTTY === true);
}

/** Action counts keyed by description (a repeated description gets "#<action>" appended). */
export function actionCountsByName<S>(model: ExploreModel<S>, counts: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let a = 0; a < counts.length; a++) {
    let name = model.describe(a);
    if (Object.hasOwn(out, name)) name = `${name} #${a}`;
    out[name] = counts[a]!;
  }
  return out;
}

/** The JSON object for a BFS result; `extra` fields come first and cannot override ours. */
export function bfsToJson<S>(result: BfsResult, model: ExploreModel<S>, extra: Record<string, unknown> = {}, options: ReportOptions = {}): ExploreJson {
  const json: ExploreJson = {
    ...extra,
    verdict: result.verdict,
    reason: result.reason,
    exhausted: result.exhausted,
    states: result.states,
    transitions: result.transitions,
    depth: result.depth,
    seconds: result.seconds,
    statesPerSecond: result.statesPerSecond,
    bytesPerState: result.bytesPerState,
    statesPerLevel: result.statesPerLevel,
    witnesses: result.witnesses,
    actionCounts: actionCountsByName(model, result.actionCounts),
    collisionProbability: result.collisionProbability,
  };
  if (result.violation !== null) {
    const v = result.violation;
    json.violation = {
      invariant: v.invariant,
      message: v.message,
      trace: formatCounterexample(model, v, options.traceHeader ?? []),
      depth: v.depth,
    };
  }
  return json;
}

function verdictLine(result: BfsResult, c: ReturnType<typeof colours>): string {
  return match(result)
    .with({ verdict: 'pass', exhausted: true }, (r) =>
      `${c.bold(c.green('PASS'))}  no invariant violated; state space exhausted (diameter ${r.depth})`,
    )
    .with({ verdict: 'pass' }, (r) => `${c.bold(c.green('PASS'))}  no invariant violated up to depth ${r.depth}`)
    .with({ verdict: 'violation' }, (r) =>
      `${c.bold(c.red('VIOLATION'))}  invariant ${c.bold(r.violation!.invariant)} violated after ${r.violation!.depth} step${r.violation!.depth === 1 ? '' : 's'}`,
    )
    .with({ verdict: 'incomplete' }, (r) => `${c.bold(c.yellow('INCOMPLETE'))}  ${incompleteText(r)}; no violation up to depth ${r.depth}`)
    .exhaustive();
}

function incompleteText(r: BfsResult): string {
  return match(r.reason)
    .with('maxStates', () => 'state limit reached')
    .with('maxMemory', () => 'memory limit reached')
    .with('maxSeconds', () => 'time limit reached')
    .with('aborted', () => 'interrupted')
    .with(null, () => 'stopped')
    .exhaustive();
}

function table(rows: [string, string][], indent = '  '): string[] {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`);
}

/** Collision probabilities as TLC prints them. */
export function formatCollision(p: CollisionProbability): string {
  const parts = [`calculated (optimistic): val = ${formatProbability(p.optimistic)}`];
  if (p.observed !== null) parts.push(`based on the actual fingerprints: val = ${formatProbability(p.observed)}`);
  return parts.join('; ');
}

/** Human-readable report of a BFS result. */
export function renderBfsText<S>(result: BfsResult, model: ExploreModel<S>, options: ReportOptions = {}): string {
  const c = colours(options.color);
  const out: string[] = [verdictLine(result, c)];
  if (result.violation !== null && options.omitTrace !== true) {
    out.push(`  ${result.violation.message}`, '', c.dim('counterexample (scenario):'));
    const text = formatCounterexample(model, result.violation, options.traceHeader ?? []);
    for (const line of text.trimEnd().split('\n')) out.push(`  ${line.startsWith('#') ? c.dim(line) : line}`);
  }
  out.push('');
  out.push(
    ...table([
      ['distinct states', formatInt(result.states)],
      ['transitions', formatInt(result.transitions)],
      ['depth', String(result.depth)],
      ['states per level', result.statesPerLevel.map(formatInt).join(' ')],
      ['time', `${formatSeconds(result.seconds)}  (${formatInt(result.statesPerSecond)} states/s)`],
      ['memory', `${result.bytesPerState.toFixed(1)} bytes/state (fingerprints + trace); peak estimate ${formatBytes(result.memoryBytes)}`],
    ]),
  );
  if (options.groupActions !== undefined) {
    const groups = new Map<string, number>();
    result.actionCounts.forEach((n, a) => groups.set(options.groupActions!(a), (groups.get(options.groupActions!(a)) ?? 0) + n));
    out.push('', 'operations (times applied):');
    out.push(...table([...groups].map(([g, n]) => [g, n === 0 ? c.yellow('0') : formatInt(n)] as [string, string])));
  }
  const counts = options.groupActions === undefined ? result.actionCounts : [];
  let order = counts.map((_, a) => a);
  const limit = options.maxActionLines ?? Infinity;
  if (order.length > limit) order = order.sort((x, y) => counts[y]! - counts[x]! || x - y).slice(0, limit);
  if (order.length > 0) {
    out.push('', 'actions (times applied):');
    out.push(...table(order.map((a) => [model.describe(a), counts[a] === 0 ? c.yellow('0') : formatInt(counts[a]!)] as [string, string])));
    if (order.length < counts.length) out.push(c.dim(`  … ${counts.length - order.length} more`));
  }
  const names = Object.keys(result.witnesses);
  if (names.length > 0) {
    out.push('', 'witnesses (first depth):');
    out.push(
      ...table(
        names.map((n) => {
          const d = result.witnesses[n];
          return [n, d === null || d === undefined ? c.yellow('never') : `depth ${d}`] as [string, string];
        }),
      ),
    );
  }
  out.push('', `fingerprint collision probability: ${formatCollision(result.collisionProbability)}`);
  return out.join('\n') + '\n';
}

/** The JSON object for a random-mode result (extra fields first, not overridable). */
export function randomToJson<S>(result: RandomResult, model: ExploreModel<S>, extra: Record<string, unknown> = {}, options: ReportOptions = {}): Record<string, unknown> {
  const json: Record<string, unknown> = {
    ...extra,
    verdict: result.verdict,
    runs: result.runs,
    steps: result.steps,
    shrinks: result.shrinks,
    seed: result.seed,
    seconds: result.seconds,
    interrupted: result.interrupted,
    witnesses: result.witnesses,
  };
  if (result.violation !== null) {
    const v = result.violation;
    json['violation'] = {
      invariant: v.invariant,
      message: v.message,
      trace: formatCounterexample(model, v, options.traceHeader ?? []),
      depth: v.depth,
    } satisfies ViolationJson;
    json['path'] = result.path;
  }
  return json;
}

/** Human-readable report of a random-mode result. */
export function renderRandomText<S>(result: RandomResult, model: ExploreModel<S>, options: ReportOptions = {}): string {
  const c = colours(options.color);
  const out: string[] = [];
  if (result.violation !== null) {
    const v = result.violation;
    out.push(
      `${c.bold(c.red('VIOLATION'))}  invariant ${c.bold(v.invariant)} violated after ${v.depth} step${v.depth === 1 ? '' : 's'} (shrunk)`,
      `  ${v.message}`,
      '',
    );
    if (options.omitTrace !== true) {
      out.push(c.dim('counterexample (scenario):'));
      const text = formatCounterexample(model, v, options.traceHeader ?? []);
      for (const line of text.trimEnd().split('\n')) out.push(`  ${line.startsWith('#') ? c.dim(line) : line}`);
      out.push('');
    }
  } else {
    out.push(`${c.bold(c.green('PASS'))}  no invariant violated in ${formatInt(result.runs)} random runs${result.interrupted ? ' (time limit)' : ''}`, '');
  }
  out.push(
    ...table([
      ['runs', formatInt(result.runs)],
      ['steps', formatInt(result.steps)],
      ['shrinks', formatInt(result.shrinks)],
      ['seed', String(result.seed)],
      ['time', formatSeconds(result.seconds)],
    ]),
  );
  const names = Object.keys(result.witnesses);
  if (names.length > 0) {
    out.push('', 'witnesses (shortest step seen):');
    out.push(...table(names.map((n) => [n, result.witnesses[n] == null ? c.yellow('never') : `step ${result.witnesses[n]}`] as [string, string])));
  }
  return out.join('\n') + '\n';
}
