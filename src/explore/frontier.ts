// The states of one BFS level waiting to be expanded, in discovery order.
//
// Two kinds: a model with decode() gets an EncodedFrontier, which keeps each state as its
// canonical encoding (a length word + the words, ~100 bytes for the kernel model) in fixed-size
// Int32Array chunks and rebuilds the state object only when it is expanded; otherwise an
// ObjectFrontier keeps the state objects (~1-1.5 KB each for the kernel model, and a large live
// heap the garbage collector keeps walking). Both are FIFO queues with a read cursor: no shift().

export interface Frontier<S> {
  /** Queue a state; `enc[0 .. len)` is its canonical encoding. */
  push(state: S, enc: Int32Array, len: number): void;
  /** The next state in discovery order, or undefined when every queued state was taken. */
  take(): S | undefined;
  /** States queued and not yet taken. */
  readonly remaining: number;
  /** Bytes held (estimate for objects, exact for encodings). */
  bytes(): number;
}

/** Words a chunk: 4 MiB. An encoding longer than a chunk gets a chunk of its own size. */
const CHUNK_WORDS = 1 << 20;

export class EncodedFrontier<S> implements Frontier<S> {
  private readonly chunks: Int32Array[] = [];
  /** ends[i]: words written to chunk i. */
  private readonly ends: number[] = [];
  /** Read cursor: chunk index and position. */
  private rchunk = 0;
  private rpos = 0;
  private count = 0;
  private taken = 0;
  private held = 0;

  constructor(private readonly decode: (buf: Int32Array, off: number, len: number) => S) {}

  push(_state: S, enc: Int32Array, len: number): void {
    const last = this.chunks.length - 1;
    let chunk = this.chunks[last];
    let w = last < 0 ? 0 : this.ends[last]!;
    if (chunk === undefined || w + len + 1 > chunk.length) {
      chunk = new Int32Array(Math.max(CHUNK_WORDS, len + 1));
      this.chunks.push(chunk);
      this.ends.push(0);
      this.held += chunk.byteLength;
      w = 0;
    }
    chunk[w] = len;
    for (let i = 0; i < len; i++) chunk[w + 1 + i] = enc[i]!;
    this.ends[this.chunks.length - 1] = w + len + 1;
    this.count++;
  }

  take(): S | undefined {
    if (this.taken >= this.count) return undefined;
    if (this.rpos >= this.ends[this.rchunk]!) {
      this.held -= this.chunks[this.rchunk]!.byteLength;
      this.chunks[this.rchunk] = EMPTY; // a read chunk is garbage
      this.rchunk++;
      this.rpos = 0;
    }
    const chunk = this.chunks[this.rchunk]!;
    const len = chunk[this.rpos]!;
    const s = this.decode(chunk, this.rpos + 1, len);
    this.rpos += len + 1;
    this.taken++;
    return s;
  }

  get remaining(): number {
    return this.count - this.taken;
  }

  bytes(): number {
    return this.held;
  }
}

const EMPTY = new Int32Array(0);

export class ObjectFrontier<S> implements Frontier<S> {
  private items: (S | undefined)[] = [];
  private head = 0;

  constructor(private readonly stateBytes: number) {}

  push(state: S): void {
    this.items.push(state);
  }

  take(): S | undefined {
    if (this.head >= this.items.length) return undefined;
    const s = this.items[this.head];
    this.items[this.head++] = undefined; // expanded states are garbage
    return s;
  }

  get remaining(): number {
    return this.items.length - this.head;
  }

  bytes(): number {
    return this.remaining * this.stateBytes;
  }
}
