// Parent links of the states found by the explorer: for state i (numbered in discovery order,
// the initial state is 0) the index of the state it was first reached from and the action that
// reached it. 6 bytes a state (5 when there are at most 256 actions), in fixed-size chunks
// (Uint32Array parents + Uint16Array or Uint8Array actions), so growing never copies and never
// needs twice the memory.

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** Bytes a state in the trace store (at most; 5 with byte-sized actions). */
export const TRACE_BYTES_PER_STATE = 6;
/** Parent of a root (initial) state. */
export const NO_PARENT = 0xffffffff;
/** Largest action number the store can hold. */
export const MAX_ACTION = 0xffff;

export class TraceStore {
  private parents: Uint32Array[] = [];
  private actions: (Uint16Array | Uint8Array)[] = [];
  private count = 0;
  private readonly bytesPerState: number;

  /** `actionCount`: how many actions there are; with at most 256 an action takes one byte. */
  constructor(private readonly actionCount = MAX_ACTION + 1) {
    this.bytesPerState = actionCount <= 256 ? 5 : 6;
  }

  /** Number of states recorded. */
  get size(): number {
    return this.count;
  }

  /** Record a root state (no parent). Returns its index. */
  addRoot(): number {
    return this.add(NO_PARENT, 0);
  }

  /** Record the next state: reached from state `parent` by `action`. Returns its index. */
  add(parent: number, action: number): number {
    const i = this.count;
    const c = i >>> CHUNK_BITS;
    if (c === this.parents.length) {
      this.parents.push(new Uint32Array(CHUNK));
      this.actions.push(this.actionCount <= 256 ? new Uint8Array(CHUNK) : new Uint16Array(CHUNK));
    }
    this.parents[c]![i & CHUNK_MASK] = parent;
    this.actions[c]![i & CHUNK_MASK] = action;
    this.count = i + 1;
    return i;
  }

  /** Parent index of state `i` (NO_PARENT for a root). */
  parent(i: number): number {
    return this.parents[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }

  /** Action that first reached state `i` (meaningless for a root). */
  action(i: number): number {
    return this.actions[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }

  /** Actions from the root to state `i`, in order. */
  path(i: number): number[] {
    if (i < 0 || i >= this.count) throw new RangeError(`trace store: no state ${i}`);
    const out: number[] = [];
    for (let k = i; ; ) {
      const p = this.parent(k);
      if (p === NO_PARENT) break;
      out.push(this.action(k));
      k = p;
    }
    return out.reverse();
  }

  /** Number of actions from the root to state `i`. */
  depth(i: number): number {
    let d = 0;
    for (let k = i; this.parent(k) !== NO_PARENT; k = this.parent(k)) d++;
    return d;
  }

  /** Bytes held now. */
  bytes(): number {
    return this.parents.length * CHUNK * this.bytesPerState;
  }

  /** Bytes held once `more` more states are recorded. */
  bytesAfter(more: number): number {
    return Math.max(this.bytes(), Math.ceil((this.count + more) / CHUNK) * CHUNK * this.bytesPerState);
  }
}
