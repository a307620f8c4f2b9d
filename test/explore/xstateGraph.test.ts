// Cross-check of the explorer by xstate's graph tools: @xstate/graph traverses the kernel model
// (wrapped by src/explore/xstateAdapter.ts) and must find exactly the states bfsSync finds, level
// by level, on a small spec.

import { describe, expect, it } from 'vitest';
import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import { createActor } from 'xstate';
import { bfsSync } from '../../src/explore/bfs.ts';
import { KernelModel } from '../../src/explore/kernelModel.ts';
import { exploreLogic, serializeSnapshot, traversalOptions, type ExploreSnapshot } from '../../src/explore/xstateAdapter.ts';
import { DEFAULT_INVARIANTS } from '../../src/invariants/index.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES, PROFILE_NAMES } from '../../src/model/profiles/index.ts';
import type { State } from '../../src/model/state.ts';
import { defineSpec } from '../../src/spec/defineSpec.ts';

const MAX_DEPTH = 4;

/** Two processes, two pages, a few operations: a few hundred states at depth 4. */
const spec = defineSpec({
  name: 'xstate-graph-cross-check',
  scope: { processes: 2, window: [0x10, 2] },
  operations: {
    mmap: { prots: ['rw'] },
    munmap: {},
    mprotect: { prots: ['r', 'rw'] },
    madvise: { advice: ['dontneed'] },
    read: {},
    mremap: { moves: [[0x10, 1, 0x11, 1]] },
    write: { values: [1] },
    fork: true,
    exit: true,
  },
  depth: MAX_DEPTH,
});

function model(profile: (typeof PROFILE_NAMES)[number]): KernelModel {
  const kernel = buildKernel(profile, PROFILES[profile].patches, { zeroPage: true, overcommit: 0 });
  return new KernelModel({ spec, kernel, invariants: DEFAULT_INVARIANTS });
}

function levels(depths: Iterable<number>): number[] {
  const out: number[] = [];
  for (const d of depths) out[d] = (out[d] ?? 0) + 1;
  return Array.from(out, (x) => x ?? 0);
}

describe('@xstate/graph traversal equals bfsSync', () => {
  for (const profile of PROFILE_NAMES) {
    it(`${profile}: same distinct states per level to depth ${MAX_DEPTH}`, () => {
      const r = bfsSync(model(profile), { maxDepth: MAX_DEPTH });
      expect(r.verdict).toBe('pass');
      expect(r.states).toBeGreaterThan(300);

      const m = model(profile);
      const adj = getAdjacencyMap(exploreLogic(m), traversalOptions(m, MAX_DEPTH));
      const nodes = Object.values(adj);
      expect(nodes.length).toBe(r.states);
      // Breadth-first, so each node keeps the snapshot of its first (shortest) path.
      expect(levels(nodes.map((n) => (n.state as ExploreSnapshot<State>).context.depth))).toEqual(r.statesPerLevel);
      // Every expanded node has one edge per enabled action (all at depth < MAX_DEPTH).
      const edges = nodes.reduce((sum, n) => sum + Object.keys(n.transitions).length, 0);
      expect(edges).toBe(r.transitions);
    });
  }

  it('getShortestPaths agrees, and each path replays to its state', () => {
    const m = model('v6.18');
    const r = bfsSync(m, { maxDepth: 3 });
    const logic = exploreLogic(m);
    const paths = getShortestPaths(logic, traversalOptions(m, 3));
    expect(paths.length).toBe(r.states);
    expect(levels(paths.map((p) => p.weight))).toEqual(r.statesPerLevel);
    const key = serializeSnapshot(m);
    for (const p of paths.filter((_, i) => i % 50 === 0)) {
      const actor = createActor(logic).start();
      for (const step of p.steps.slice(1)) actor.send(step.event);
      expect(key(actor.getSnapshot())).toBe(key(p.state));
      actor.stop();
    }
  });
});
