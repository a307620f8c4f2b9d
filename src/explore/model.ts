// The interface between the explorer and what it explores. The explorer knows nothing about
// VMAs: it sees states, numbered actions, a canonical encoding and a checker. The kernel model
// is adapted to this interface in kernelModel.ts; tests adapt toy models to it.

/** A failed invariant: its name and an explanation naming the objects involved. */
export interface Violation {
  invariant: string;
  message: string;
}

/** Result of applying one action. */
export interface Successor<S> {
  state: S;
  /** Bitmask of witness events (see ExploreModel.witnessNames) that happened during the step. */
  events: number;
}

export interface ExploreModel<S> {
  /** The initial state (after any setup steps). */
  initial(): S;
  /** Number of actions; actions are 0..actionCount-1. */
  readonly actionCount: number;
  /** Whether action `a` is enabled in `s` (e.g. its process is alive). Cheap; called for every action. */
  enabled(s: S, a: number): boolean;
  /** Apply enabled action `a` to a copy of `s` (never mutate `s`). */
  successor(s: S, a: number): Successor<S>;
  /**
   * Write the canonical encoding of `s` into `out` starting at 0 and return its length.
   * Symmetric states (renamed processes, anon_vmas, folios) must encode identically.
   * If `out` is too small, return -1 and the explorer retries with a bigger buffer.
   */
  encode(s: S, out: Int32Array): number;
  /**
   * Optional: rebuild a state from its canonical encoding `buf[off .. off + len)`. The result
   * must behave exactly like every state with that encoding (same successors up to encoding,
   * same invariant verdicts) and re-encode to the same words. With it, the explorer keeps its
   * frontier as encodings (a few dozen bytes a state instead of an object graph) and can hand
   * states to worker threads.
   */
  decode?(buf: Int32Array, off: number, len: number): S;
  /**
   * With decode: a decoded state may number its parts differently (the kernel model puts its
   * processes in canonical order), so an action recorded on decoded states can mean another
   * action on the states the initial state really leads to. This turns a path recorded by an
   * explorer that expanded decoded states into the same path from initial(), as actions that
   * replay without decoding. Absent: the numbering is the same.
   */
  translateTrace?(trace: readonly number[]): number[];
  /** Check every invariant on `next`, reached from `prev` by action `a` (prev is null for the initial state). */
  check(prev: S | null, a: number, next: S): Violation | null;
  /**
   * Optional: the invariants that depend on the transition (prev, a), checked on transitions into
   * states already seen (check() covers them for new states). Must be cheap.
   */
  checkTransition?(prev: S, a: number, next: S): Violation | null;
  /** The action as a scenario-file line, e.g. "P0 write 0x10 1". */
  describe(a: number): string;
  /** Witness names, bit i of Successor.events = witnessNames[i]. */
  readonly witnessNames: readonly string[];
}

/**
 * `model.encode(s, buf)`, retried in buffers twice as large while it does not fit (returns -1):
 * the buffer that holds the encoding, and its length.
 */
export function encodeGrowing<S>(model: ExploreModel<S>, s: S, buf: Int32Array): { buf: Int32Array; len: number } {
  let len = model.encode(s, buf);
  while (len < 0) {
    buf = new Int32Array(buf.length * 2);
    len = model.encode(s, buf);
  }
  return { buf, len };
}
