// Paths recorded on decoded states (the explorer's encoded frontier puts processes in canonical
// order) must become steps of the real processes: KernelModel.translateTrace.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KernelModel } from '../../src/explore/kernelModel.ts';
import { Canonicalizer } from '../../src/explore/canonical.ts';
import { bfsSync } from '../../src/explore/bfs.ts';
import { replay } from '../../src/explore/trace.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import { DEFAULT_INVARIANTS } from '../../src/invariants/index.ts';
import { SCENARIO_FILES } from '../../src/scenario/run.ts';
import type { State } from '../../src/model/state.ts';
import reuseSpec from '../../specs/anon-vma-reuse.ts';
import defaultSpec from '../../specs/default.ts';
import forkNoOwnLink from './fixtures/fork-no-own-link.ts';
import type { Spec } from '../../src/spec/defineSpec.ts';
import type { Patch } from '../../src/model/patch.ts';

function model(spec: Spec, patches: Patch[] = []): KernelModel {
  const k = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 }, patches);
  return new KernelModel({ spec, kernel: k, invariants: DEFAULT_INVARIANTS });
}

const canon = new Canonicalizer(SCENARIO_FILES, false);
const buf = new Int32Array(1 << 14);

/** What does not depend on how tied processes are ordered: the sorted process signatures. */
function shape(s: State): string {
  const sigs = s.mms.flatMap((m) => (m === null ? [] : [canon.signature(m)]));
  return `${sigs.sort((a, b) => a - b).join(',')}|${s.anonVmas.filter((a) => !a.freed).length}|${s.folios.filter((f) => !f.freed).length}`;
}

function redecode(m: KernelModel, s: State): State {
  const len = m.encode(s, buf);
  return m.decode(buf, 0, len);
}

describe('translateTrace', () => {
  it('a random walk over decoded states replays step by step on the real processes', () => {
    for (const spec of [reuseSpec, defaultSpec]) {
      const m = model(spec);
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 14 }), (picks) => {
          let d = redecode(m, m.initial());
          const recorded: number[] = [];
          const shapes: string[] = [];
          const events: number[] = [];
          for (const p of picks) {
            const enabled = [...Array(m.actionCount).keys()].filter((a) => m.enabled(d, a));
            if (enabled.length === 0) break; // every process exited
            const a = enabled[p % enabled.length]!;
            recorded.push(a);
            const r = m.successor(d, a);
            events.push(r.events);
            shapes.push(shape(r.state));
            d = redecode(m, r.state);
          }
          const real = m.translateTrace(recorded);
          expect(real).toHaveLength(recorded.length);
          const rep = replay(m, real);
          expect(rep.states.slice(1).map(shape)).toEqual(shapes);
          expect(rep.events).toEqual(events);
        }),
        { numRuns: 150, seed: 4242 },
      );
    }
  });

  it('a violation found over an encoded frontier replays to the same invariant at the same step', () => {
    const m = model(reuseSpec, [forkNoOwnLink]);
    const r = bfsSync(m, { maxDepth: 6 });
    expect(r.verdict).toBe('violation');
    const rep = replay(m, r.violation!.trace);
    expect(rep.firstViolation?.step).toBe(r.violation!.depth);
    expect(rep.violation?.invariant).toBe(r.violation!.invariant);
    // Witness traces too: each one's last step raises its event.
    const names: readonly string[] = m.witnessNames;
    for (const [name, t] of Object.entries(r.witnessTraces)) {
      if (t === null) continue;
      const w = replay(m, t);
      expect(w.events[w.events.length - 1]! & (1 << names.indexOf(name))).not.toBe(0);
    }
  });
});
