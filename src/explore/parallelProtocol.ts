// The messages between the parallel explorer's coordinator (parallel.ts) and its workers
// (parallelWorker.ts), and the layout of the candidate batches the workers send.

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExploreModel, Violation } from './model.ts';

/**
 * How a worker builds its own copy of the model: `module` is the file URL (or absolute path) of
 * a module exporting `createModel(arg)`, which returns the model (or a promise of it); `arg` must
 * be structured-cloneable. Every call must build the same model (same actions, same behaviour).
 */
export interface ModelFactory {
  module: string;
  arg: unknown;
}

/** What a factory module exports. */
export type CreateModel = (arg: unknown) => ExploreModel<unknown> | Promise<ExploreModel<unknown>>;

// A batch is an Int32Array of records, each a header and the candidate's canonical encoding:
/** Global index of the parent state (uint32 bit pattern). */
export const REC_PARENT = 0;
export const REC_ACTION = 1;
/** Fingerprint halves (int32 bit patterns). */
export const REC_HI = 2;
export const REC_LO = 3;
/** Words of encoding that follow the header. */
export const REC_LEN = 4;
export const REC_HEADER = 5;

/** workerData of a worker. */
export interface WorkerInit {
  factory: ModelFactory;
  checkAll: boolean;
  /** Flush a unit's candidates to the coordinator once this many words are buffered. */
  batchWords: number;
  encodeWords: number;
}

/** Start of a level: the frontier's segments and the global fingerprint table (both shared). */
export interface LevelMsg {
  type: 'level';
  level: number;
  table: Int32Array;
  segments: Int32Array[];
  /** Witness events already seen in earlier levels. */
  seenEvents: number;
  /** How many states the worker may find in this level (to size its set). */
  expected: number;
}

/** Expand `count` frontier states, stored from word `off` of segment `seg` ([len, words...] each). */
export interface UnitMsg {
  type: 'unit';
  id: number;
  seg: number;
  off: number;
  count: number;
  /** Global index of the unit's first state. */
  first: number;
}

export type ToWorker = LevelMsg | UnitMsg;

export interface ReadyMsg {
  type: 'ready';
  actionCount: number;
  witnessCount: number;
  decode: boolean;
}

/** A thrown value, flattened for postMessage. */
export interface ThrownValue {
  /** String(e), as bfs puts it in its messages. */
  text: string;
  name: string | null;
  message: string | null;
  stack: string | null;
}

export interface FatalMsg {
  type: 'fatal';
  error: ThrownValue;
}

/** A unit's counters: steps applied, per action, and the witness events it raised first. */
export interface UnitCounters {
  transitions: number;
  counts: Uint32Array;
  /** Witness bits first raised in the unit (not seen before by its worker), and for each where. */
  events: number;
  witnessParent: Int32Array;
  witnessAction: Int32Array;
}

/**
 * A candidate (new to its worker) on which model.check failed; whether it is a violation is only
 * known at the merge: if another worker found the same state earlier in BFS order, the sequential
 * search would have called checkTransition instead, which passed (else the candidate would end
 * the unit as a Stop). `counters`: the unit's counters right after this step.
 */
export interface Tentative {
  /** Record number within its batch. */
  rec: number;
  violation: Violation;
  counters: UnitCounters;
}

/** Where and why a unit ended early; nothing after it in BFS order matters. */
export interface Stop {
  kind: 'violation' | 'error' | 'decode';
  parent: number;
  action: number;
  /** The step's successor is the batch's last record (new to the worker). */
  candidate: boolean;
  /** model.check's verdict (or checkTransition's for a step into a state seen before). */
  violation: Violation | null;
  /** checkTransition's verdict (the one that counts if the candidate turns out to be seen). */
  transition: Violation | null;
  error: ThrownValue | null;
  description: string;
}

export interface BatchMsg {
  type: 'batch';
  unit: number;
  data: Int32Array;
  tentative: Tentative[];
}

/** A unit's last batch and its counters (up to its Stop if any). */
export interface DoneMsg {
  type: 'done';
  unit: number;
  data: Int32Array;
  tentative: Tentative[];
  counters: UnitCounters;
  stop: Stop | null;
  /** Bytes of the worker's level-local fingerprint set, and its JavaScript heap in use. */
  localBytes: number;
  heapUsed: number;
}

export type FromWorker = ReadyMsg | FatalMsg | BatchMsg | DoneMsg;

export function flattenThrown(e: unknown): ThrownValue {
  let text: string;
  try {
    text = String(e);
  } catch {
    text = 'unprintable exception';
  }
  if (e instanceof Error) return { text, name: e.name, message: e.message, stack: e.stack ?? null };
  return { text, name: null, message: null, stack: null };
}

/** An Error standing for a value thrown in a worker (for ExploreError's cause). */
export function rebuildThrown(t: ThrownValue): unknown {
  if (t.message === null) return t.text;
  const e = new Error(t.message);
  if (t.name !== null) e.name = t.name;
  if (t.stack !== null) e.stack = t.stack;
  return e;
}

/** Import a factory module (a file URL or an absolute path) and build the model. */
export async function createFromFactory(factory: ModelFactory): Promise<ExploreModel<unknown>> {
  const url = factory.module.startsWith('file:') || !isAbsolute(factory.module) ? factory.module : pathToFileURL(factory.module).href;
  const mod = (await import(url)) as { createModel?: CreateModel };
  if (typeof mod.createModel !== 'function') throw new Error(`model factory ${factory.module} exports no createModel function`);
  return await mod.createModel(factory.arg);
}
