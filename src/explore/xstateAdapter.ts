// An ExploreModel as xstate actor logic, so that xstate's own graph tools (@xstate/graph's
// getAdjacencyMap, getShortestPaths, ...) can traverse the model: a cross-check of the explorer
// (bfs.ts) by an independent implementation. Not for production runs: @xstate/graph keeps every
// state as a JS object and a string key.
//
// The logic is fromTransition-shaped: the snapshot's context is the model state plus its depth
// (the number of actions from the initial state; not part of the serialized key, so a depth
// bound is applied with `stopWhen`, see traversalOptions). Events are action indices. The
// serialized state is the model's canonical encoding joined into a string, so two states are the
// same graph node exactly when the explorer would take them as the same state (up to fingerprint
// collisions, which the explorer's 64-bit fingerprints make negligible for small graphs).

import { fromTransition, type TransitionActorLogic, type TransitionSnapshot } from 'xstate';
import type { ExploreModel } from './model.ts';

/** One explorer action as an xstate event. */
export interface ActionEvent {
  type: 'action';
  action: number;
}

export interface ExploreContext<S> {
  state: S;
  /** Actions applied since the initial state (along the path this snapshot was reached by). */
  depth: number;
}

export type ExploreSnapshot<S> = TransitionSnapshot<ExploreContext<S>>;
export type ExploreLogic<S> = TransitionActorLogic<ExploreContext<S>, ActionEvent, unknown>;

/** The model's initial state and successor function as xstate transition logic. */
export function exploreLogic<S>(model: ExploreModel<S>): ExploreLogic<S> {
  return fromTransition(
    (ctx: ExploreContext<S>, ev: ActionEvent): ExploreContext<S> => {
      // An actor also hands its logic xstate's own events (e.g. xstate.stop): not actions.
      if (ev.type !== 'action') return ctx;
      return { state: model.successor(ctx.state, ev.action).state, depth: ctx.depth + 1 };
    },
    () => ({ state: model.initial(), depth: 0 }),
  );
}

/** The enabled actions of a snapshot, as events. */
export function enabledEvents<S>(model: ExploreModel<S>): (snapshot: ExploreSnapshot<S>) => ActionEvent[] {
  return (snapshot) => {
    const out: ActionEvent[] = [];
    for (let a = 0; a < model.actionCount; a++) if (model.enabled(snapshot.context.state, a)) out.push({ type: 'action', action: a });
    return out;
  };
}

/** The canonical encoding of a snapshot's state as a string (the graph's node key). */
export function serializeSnapshot<S>(model: ExploreModel<S>): (snapshot: ExploreSnapshot<S>) => string {
  let buf = new Int32Array(256);
  return (snapshot) => {
    let n = model.encode(snapshot.context.state, buf);
    while (n < 0) {
      buf = new Int32Array(buf.length * 2);
      n = model.encode(snapshot.context.state, buf);
    }
    return buf.subarray(0, n).join(',');
  };
}

/**
 * Traversal options for @xstate/graph: enabled actions as events, canonical serialization, and a
 * depth bound (states at maxDepth are reached but not expanded, as in bfs()). getAdjacencyMap
 * visits breadth first, so the first snapshot kept for a key has the smallest depth.
 */
export function traversalOptions<S>(model: ExploreModel<S>, maxDepth: number) {
  return {
    events: enabledEvents(model),
    serializeState: serializeSnapshot(model),
    serializeEvent: (e: ActionEvent) => String(e.action),
    stopWhen: (snapshot: ExploreSnapshot<S>) => snapshot.context.depth >= maxDepth,
  };
}
