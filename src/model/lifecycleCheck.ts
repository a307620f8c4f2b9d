// Checks the model's VMA lifecycle events against the statechart of lifecycle.ts.
//
// A LifecycleRecorder is installed as Kernel.observer; it keeps each VMA's event history (keyed by
// vma.id, with vma->anon_vma != NULL and the range at each event), and checkHistories() runs every
// history through the machine and returns the earliest rejected event, explained.
//
// VMA ids are unique within one line of states (State.nextVmaId only grows), not across the
// explorer's branches: record one run at a time (reset() between runs), not on the explorer's hot
// path. Recording costs one array push per event; checking one pure xstate transition per event.

import type { Kernel } from './kernel.ts';
import type { VmaEvent, VmaObserver } from './events.ts';
import { NONE, type Vma } from './state.ts';
import {
  anonState, describeLifecycleState, lifecycleInitial, stepLifecycle, type LifecycleEvent, type LifecycleSnapshot,
} from './lifecycle.ts';

/** One recorded event. */
export interface VmaEventRecord extends LifecycleEvent {
  type: VmaEvent;
  /** vma->anon_vma != NULL when the event was reported. */
  anonVma: boolean;
  start: number;
  end: number;
  /** Position in the recording (over all VMAs): "first" means smallest seq. */
  seq: number;
  /** The recorder's `at` label when the event came (e.g. the scenario step). */
  at: string | null;
}

/** A history as the checker takes it: recorded events, plain event objects, or bare names. */
export type HistoryEntry = VmaEvent | LifecycleEvent | VmaEventRecord;

export class LifecycleRecorder {
  /** vma.id -> its events, oldest first. */
  readonly histories = new Map<number, VmaEventRecord[]>();
  /** Label stored with every event from now on (set it to the step being applied). */
  at: string | null = null;
  private seq = 0;

  /** The observer to install as Kernel.observer. */
  readonly observer: VmaObserver = (event: VmaEvent, vma: Vma): void => {
    let h = this.histories.get(vma.id);
    if (h === undefined) {
      h = [];
      this.histories.set(vma.id, h);
    }
    h.push({ type: event, anonVma: vma.anonVma !== NONE, start: vma.start, end: vma.end, seq: this.seq++, at: this.at });
  };

  /** Install on `k`; returns a function that puts the previous observer back. */
  install(k: Kernel): () => void {
    const prev = k.observer;
    k.observer = this.observer;
    return () => {
      k.observer = prev;
    };
  }

  /** Forget everything (before recording a run on a fresh state: VMA ids start again). */
  reset(): void {
    this.histories.clear();
    this.seq = 0;
    this.at = null;
  }

  /** Number of events recorded. */
  get events(): number {
    return this.seq;
  }

  /** The earliest rejected event over all histories, or null if all are accepted. */
  check(options: CheckOptions = {}): LifecycleRejection | null {
    return checkHistories(this.histories, options);
  }
}

export interface CheckOptions {
  /**
   * The histories are complete up to now (default true): a VMA left in anon.attaching (created with
   * an anon_vma, 'fault' never reported) is rejected. False while a step is still running.
   */
  complete?: boolean;
}

/** Why a history is rejected. */
export interface LifecycleRejection {
  vmaId: number;
  /** The accepted events before the rejected one. */
  accepted: readonly HistoryEntry[];
  /** The rejected event; null when the history ended where another event was required. */
  event: HistoryEntry | null;
  /** The machine state the VMA was in when the event came. */
  state: string;
  reason: string;
  /** Readable explanation (several lines). */
  message: string;
}

function toEvent(e: HistoryEntry): LifecycleEvent {
  return typeof e === 'string' ? { type: e } : e;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function describeEntry(e: HistoryEntry): string {
  if (typeof e === 'string') return e;
  let s = e.type;
  if ('start' in e) s += ` ${hex(e.start)}-${hex(e.end)}`;
  if (e.anonVma !== undefined) s += e.anonVma ? ' anon_vma' : ' no-anon_vma';
  if ('at' in e && e.at !== null) s += `  [${e.at}]`;
  return s;
}

function explain(vmaId: number, accepted: readonly HistoryEntry[], event: HistoryEntry | null, state: string, reason: string): LifecycleRejection {
  const lines = [
    event === null
      ? `VMA #${vmaId}: history ends in ${state}: ${reason}`
      : `VMA #${vmaId}: event '${toEvent(event).type}' rejected in state ${state}: ${reason}`,
    `  events so far (${accepted.length}):`,
    ...accepted.map((e, i) => `    ${i + 1}. ${describeEntry(e)}`),
  ];
  if (event !== null) lines.push(`  rejected: ${describeEntry(event)}`);
  return { vmaId, accepted: accepted.slice(), event, state, reason, message: lines.join('\n') };
}

/** Run one history through the machine; the first rejected event, or null. */
export function checkHistory(vmaId: number, history: readonly HistoryEntry[], options: CheckOptions = {}): LifecycleRejection | null {
  let snap: LifecycleSnapshot = lifecycleInitial();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    const r = stepLifecycle(snap, toEvent(e));
    if (r.rejected !== null) return explain(vmaId, history.slice(0, i), e, describeLifecycleState(snap), r.rejected);
    snap = r.snapshot;
  }
  if (options.complete !== false && anonState(snap) === 'attaching') {
    return explain(vmaId, history, null, describeLifecycleState(snap), "created with an anon_vma, but 'fault' was never reported");
  }
  return null;
}

function seqOf(r: LifecycleRejection): number {
  const e = r.event ?? r.accepted[r.accepted.length - 1];
  return e !== undefined && typeof e === 'object' && 'seq' in e ? e.seq : Number.MAX_SAFE_INTEGER;
}

/**
 * Check every history; return the rejection whose rejected event came first (by record seq;
 * histories without seqs: the smallest VMA id), or null if every history is accepted.
 */
export function checkHistories(histories: ReadonlyMap<number, readonly HistoryEntry[]> | Iterable<readonly [number, readonly HistoryEntry[]]>, options: CheckOptions = {}): LifecycleRejection | null {
  let best: LifecycleRejection | null = null;
  const entries = [...histories].sort((a, b) => a[0] - b[0]);
  for (const [id, h] of entries) {
    const r = checkHistory(id, h, options);
    if (r !== null && (best === null || seqOf(r) < seqOf(best))) best = r;
  }
  return best;
}
