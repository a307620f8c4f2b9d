// Parent links of the states found by the explorer: for state i (numbered in discovery order,
// the initial state is 0) the index of the state it was first reached from and the action that
// reached it; enough to rebuild the path to any state (a counterexample trace).
//
// Compact encoding (about 1 byte a state for a breadth-first search, instead of 5-6 for plain
// arrays). States are stored as a bit stream, in discovery order:
//
//   parent  A breadth-first search adds states with non-decreasing parents (each level's states
//           are found while expanding the previous level in order), so the parent is coded as
//           the delta d from the previous state's parent, in unary: d zeros then a one (d < D).
//           That costs (number of states + last parent) bits in all: at most 2 bits a state.
//           Escape (any other parent: a root, a decreasing parent as another explorer may add,
//           or a jump of D or more): D zeros, then the parent in 32 bits. So any sequence of
//           parents is stored exactly; only the size depends on the order.
//   action  w = ⌈log2 actionCount⌉ bits (none with at most one action). When the parent is the
//           previous state's parent, a breadth-first search found this state after the previous
//           one while trying the same state's actions in order, so the action is larger than the
//           previous one: it is coded as the gap g = action − previous action in Elias gamma
//           (⌊log2 g⌋ zeros, then g in binary) when 1 ≤ g < 2^L, L = ⌊w / 2⌋ + 1. Escape (any
//           other action): L zeros, then the action in w bits.
//   A root leaves the previous parent and action as they were.
//
// Every BLOCK states a checkpoint records the stream's bit position and the previous parent
// (and the previous action restarts at -1), so decoding one state's links decodes at most BLOCK
// states. Lookups (parent, action, path) are meant for rebuilding a few traces per run.
//
// Storage: the stream in fixed 16 KiB chunks, the checkpoints in small fixed chunks, so growing
// never copies and never needs twice the memory.

/** Parent of a root (initial) state. */
export const NO_PARENT = 0xffffffff;
/** Largest action number the store can hold. */
export const MAX_ACTION = 0xffff;
/**
 * Upper bound of the bytes a state takes in a breadth-first search (one root, non-decreasing
 * parents, increasing actions among the states found from one parent) with any number of actions
 * up to MAX_ACTION + 1, for a memory estimate (not counting the last partly filled 16 KiB chunk):
 * parents at most 2 + 31/D ≈ 3.3 bits amortised (unary deltas sum to at most 2 bits a state, each
 * escape adds at most 31 bits and takes a delta of D or more), actions at most L + w ≤ 25 bits
 * (≤ 13 with at most 256 actions), checkpoints 0.375 bits: 28.7 bits. Typically it is about
 * 1 byte. `bytesAfter` bounds any input (see `bytesPerStateBound`).
 */
export const TRACE_BYTES_PER_STATE = 4;

/** States per checkpoint. */
const BLOCK_BITS = 8;
const BLOCK = 1 << BLOCK_BITS;
/** Unary parent deltas up to D − 1; D zeros escape to an absolute parent. */
const D = 24;
/** Stream chunk: 4096 words (16 KiB). */
const CHUNK_WORDS = 1 << 12;
const CHUNK_BITS = CHUNK_WORDS * 32;
/** Checkpoints per checkpoint chunk (12 bytes each). */
const CP_CHUNK = 256;
const CP_BYTES = 12;

/** Bits needed to write 0..n-1 (0 for n ≤ 1). */
function bitsFor(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

export class TraceStore {
  /** Stream chunks; the last is the one being written. */
  private readonly chunks: Int32Array[] = [];
  private cur: Int32Array;
  /** Word being written in `cur`, and bits of it used (0..31). */
  private wi = 0;
  private used = 0;
  /** Checkpoint chunks: bit position of each block's first state, and the parent before it. */
  private readonly cpBit: Float64Array[] = [];
  private readonly cpParent: Uint32Array[] = [];
  private count = 0;
  /** Parent and action of the previous non-root state (actions: -1 at a block start). */
  private prevParent = 0;
  private prevAction = -1;
  /** Action width w, and the gamma limit L (gaps of 2^L or more escape). */
  private readonly w: number;
  private readonly L: number;
  /** Actions must be below this. */
  private readonly actionLimit: number;

  /** `actionCount`: how many actions there are (actions are 0..actionCount-1). */
  constructor(actionCount = MAX_ACTION + 1) {
    if (!Number.isInteger(actionCount) || actionCount < 0 || actionCount > MAX_ACTION + 1) {
      throw new RangeError(`trace store: actionCount must be an integer in 0..${MAX_ACTION + 1}, got ${actionCount}`);
    }
    this.actionLimit = Math.max(1, actionCount);
    this.w = bitsFor(actionCount);
    this.L = (this.w >> 1) + 1;
    this.cur = new Int32Array(CHUNK_WORDS);
    this.chunks.push(this.cur);
  }

  /** Number of states recorded. */
  get size(): number {
    return this.count;
  }

  /** Record a root state (no parent). Returns its index. */
  addRoot(): number {
    return this.add(NO_PARENT, 0);
  }

  /** Append the low `n` bits of `v` (1 ≤ n ≤ 32) to the stream. */
  private put(v: number, n: number): void {
    let c = this.cur;
    let wi = this.wi;
    const free = 32 - this.used;
    if (n < free) {
      c[wi] |= v << (free - n);
      this.used += n;
      return;
    }
    const rem = n - free;
    c[wi] |= v >>> rem;
    if (++wi === CHUNK_WORDS) {
      c = new Int32Array(CHUNK_WORDS);
      this.chunks.push(c);
      this.cur = c;
      wi = 0;
    }
    if (rem > 0) c[wi] = v << (32 - rem);
    this.wi = wi;
    this.used = rem;
  }

  /** Bit position where the next state will be written. */
  private bitPos(): number {
    return ((this.chunks.length - 1) * CHUNK_WORDS + this.wi) * 32 + this.used;
  }

  /**
   * Record the next state: reached from state `parent` (an index below `size`, or NO_PARENT for
   * a root) by `action`. Returns its index.
   */
  add(parent: number, action: number): number {
    const i = this.count;
    if (!((parent >>> 0) === parent && (parent < i || parent === NO_PARENT))) {
      throw new RangeError(`trace store: parent ${parent} of state ${i} is not a recorded state`);
    }
    if (!((action >>> 0) === action && action < this.actionLimit)) {
      throw new RangeError(`trace store: action ${action} out of range 0..${this.actionLimit - 1}`);
    }
    if ((i & (BLOCK - 1)) === 0) {
      const b = i >>> BLOCK_BITS;
      const c = Math.floor(b / CP_CHUNK);
      if (c === this.cpBit.length) {
        this.cpBit.push(new Float64Array(CP_CHUNK));
        this.cpParent.push(new Uint32Array(CP_CHUNK));
      }
      this.cpBit[c]![b % CP_CHUNK] = this.bitPos();
      this.cpParent[c]![b % CP_CHUNK] = this.prevParent;
      this.prevAction = -1;
    }
    const d = parent - this.prevParent;
    const w = this.w;
    if (d >= 0 && d < D) {
      // Parent: d zeros and a one; action: gamma-coded gap, or w bits.
      let code = 1;
      let n = d + 1;
      if (w > 0) {
        const g = action - this.prevAction;
        if (d !== 0) {
          code = (code << w) | action;
          n += w;
        } else if (g >= 1 && g < 1 << this.L) {
          const gn = 2 * (31 - Math.clz32(g)) + 1;
          code = (code << gn) | g;
          n += gn;
        } else {
          this.put(code, n);
          code = action;
          n = this.L + w;
        }
      }
      if (n <= 32) {
        this.put(code, n);
      } else {
        this.put(code >>> w, n - w);
        this.put(action, w);
      }
    } else {
      this.put(0, D);
      this.put(parent, 32);
      if (w > 0) this.put(action, w);
    }
    if (parent !== NO_PARENT) {
      this.prevParent = parent;
      this.prevAction = action;
    }
    this.count = i + 1;
    return i;
  }

  /** Decoded parent and action of the state last decoded by `decode`. */
  private decParent = 0;
  private decAction = 0;

  /** Decode state `i`'s links into decParent / decAction (decodes from its block's start). */
  private decode(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`trace store: no state ${i}`);
    const chunks = this.chunks;
    const b = Math.floor(i / BLOCK);
    const start = this.cpBit[Math.floor(b / CP_CHUNK)]![b % CP_CHUNK]!;
    let prevParent = this.cpParent[Math.floor(b / CP_CHUNK)]![b % CP_CHUNK]!;
    let prevAction = -1;
    // Reading position: word wi of chunk c (cur), bit `bit` of it (0..31, from the top); `win`
    // holds the 32 bits from there (zeros past the end), refreshed after each move.
    const word = Math.floor(start / 32);
    let bit = start - word * 32;
    let c = Math.floor(word / CHUNK_WORDS);
    let wi = word - c * CHUNK_WORDS;
    let cur = chunks[c]!;
    const w = this.w;
    const L = this.L;
    for (let k = b * BLOCK; ; k++) {
      // Up to three fields: parent code, (escaped) parent, action code; each ≤ 32 bits.
      let parent = 0;
      let action = 0;
      let same = false;
      for (let field = 0; field < 4; field++) {
        const hiw = cur[wi]!;
        const low = bit === 0 ? 0 : wi + 1 < CHUNK_WORDS ? cur[wi + 1]! : (chunks[c + 1]?.[0] ?? 0);
        const x = bit === 0 ? hiw : (hiw << bit) | (low >>> (32 - bit));
        let n: number;
        if (field === 0) {
          const z = Math.clz32(x);
          if (z < D) {
            parent = prevParent + z;
            same = z === 0;
            n = z + 1;
            field = 1; // no escaped parent
          } else {
            n = D;
          }
        } else if (field === 1) {
          parent = x >>> 0;
          n = 32;
        } else if (field === 2) {
          if (w === 0) break;
          if (!same) {
            action = x >>> (32 - w);
            n = w;
            field = 3;
          } else {
            const m = Math.clz32(x);
            if (m < L) {
              action = prevAction + (x >>> (31 - 2 * m));
              n = 2 * m + 1;
              field = 3;
            } else {
              n = L;
            }
          }
        } else {
          action = x >>> (32 - w);
          n = w;
        }
        bit += n;
        if (bit >= 32) {
          bit -= 32;
          if (++wi === CHUNK_WORDS) {
            cur = chunks[++c] ?? cur;
            wi = 0;
          }
        }
      }
      if (k === i) {
        this.decParent = parent;
        this.decAction = action;
        return;
      }
      if (parent !== NO_PARENT) {
        prevParent = parent;
        prevAction = action;
      }
    }
  }

  /** Parent index of state `i` (NO_PARENT for a root). */
  parent(i: number): number {
    this.decode(i);
    return this.decParent;
  }

  /** Action that first reached state `i` (0 for a root). */
  action(i: number): number {
    this.decode(i);
    return this.decAction;
  }

  /** Actions from the root to state `i`, in order. */
  path(i: number): number[] {
    const out: number[] = [];
    for (let k = i; ; ) {
      this.decode(k);
      if (this.decParent === NO_PARENT) break;
      out.push(this.decAction);
      k = this.decParent;
    }
    return out.reverse();
  }

  /** Number of actions from the root to state `i`. */
  depth(i: number): number {
    let d = 0;
    for (let k = this.parent(i); k !== NO_PARENT; k = this.parent(k)) d++;
    return d;
  }

  /** Most bits one state can take in this store (any parent and action). */
  private maxBitsPerState(): number {
    return D + 32 + (this.w > 0 ? this.L + this.w : 0);
  }

  /**
   * Upper bound of the bytes a state takes in this store, for any input, not counting partly
   * filled chunks (a breadth-first search takes far fewer: see TRACE_BYTES_PER_STATE).
   */
  bytesPerStateBound(): number {
    return this.maxBitsPerState() / 8 + CP_BYTES / BLOCK;
  }

  private static bytesFor(bits: number, states: number): number {
    return Math.max(1, Math.ceil(bits / CHUNK_BITS)) * CHUNK_WORDS * 4 + Math.ceil(Math.ceil(states / BLOCK) / CP_CHUNK) * CP_CHUNK * CP_BYTES;
  }

  /** Bytes held now. */
  bytes(): number {
    return this.chunks.length * CHUNK_WORDS * 4 + this.cpBit.length * CP_CHUNK * CP_BYTES;
  }

  /** Upper bound of the bytes held once `more` more states are recorded (whatever they are). */
  bytesAfter(more: number): number {
    if (more <= 0) return this.bytes();
    // +1 bit: a new chunk is allocated as soon as the last word fills up.
    const bits = this.bitPos() + more * this.maxBitsPerState() + 1;
    return Math.max(this.bytes(), TraceStore.bytesFor(bits, this.count + more));
  }
}
