import { describe, expect, it } from 'vitest';
import { bfsSync } from '../../src/explore/bfs.ts';
import { randomExplore } from '../../src/explore/random.ts';
import { bfsToJson, randomToJson, renderBfsText, renderRandomText } from '../../src/explore/report.ts';
import { formatCounterexample, formatScenario, replay, TraceReplayError } from '../../src/explore/trace.ts';
import { createProgressLine, formatProgress } from '../../src/explore/progress.ts';
import { formatProbability } from '../../src/explore/format.ts';
import { bitVectorModel, counterModel } from '../../src/explore/toyModels.ts';

describe('trace', () => {
  it('prints scenario text: header comments, one line per action', () => {
    const model = counterModel(2, 2);
    expect(formatScenario(model, [0, 2, 1], ['title', 'two\nlines'])).toBe('# title\n# two\n# lines\ninc 0\ninc 1\ndec 0\n');
    const text = formatCounterexample(model, { invariant: 'inv', message: 'msg', trace: [0] });
    expect(text).toBe('# vmacheck counterexample: invariant inv violated after 1 step\n# msg\ninc 0\n');
  });

  it('rejects a trace with a disabled action', () => {
    const model = counterModel(2, 2);
    expect(() => replay(model, [1])).toThrow(TraceReplayError);
    expect(() => replay(model, [0, 0, 0])).toThrow(/step 3/);
  });
});

describe('report', () => {
  it('renders a violation as text and JSON', () => {
    const model = bitVectorModel(6, { forbidPopcount: 3 });
    const r = bfsSync(model);
    const text = renderBfsText(r, model, { color: false });
    expect(text).toContain('VIOLATION');
    expect(text).toContain('invariant popcount violated after 3 steps');
    expect(text).toMatch(/distinct states\s+\d/);
    expect(text).toContain('never'); // witness "never"
    expect(text).toContain('flip 0');
    expect(text).toContain('calculated (optimistic): val = ');
    expect(text).not.toContain('\x1b[');
    const json = bfsToJson(r, model, { profile: 'tiny', verdict: 'overridden?' });
    expect(Object.keys(json).slice(0, 2)).toEqual(['profile', 'verdict']); // extra first, but ours win
    expect(json['profile']).toBe('tiny');
    expect(json.verdict).toBe('violation');
    expect(json.violation!.depth).toBe(3);
    expect(json.violation!.trace.split('\n').filter((l) => l.startsWith('flip'))).toHaveLength(3);
    expect(json.actionCounts['flip 0']).toBe(r.actionCounts[0]);
    for (const k of ['states', 'transitions', 'depth', 'seconds', 'statesPerSecond', 'bytesPerState', 'statesPerLevel', 'witnesses', 'collisionProbability']) {
      expect(json).toHaveProperty(k);
    }
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('renders pass and incomplete', () => {
    const model = bitVectorModel(5);
    expect(renderBfsText(bfsSync(model), model, { color: false })).toContain('state space exhausted (diameter 5)');
    expect(renderBfsText(bfsSync(model, { maxDepth: 2 }), model, { color: false })).toContain('up to depth 2');
    const inc = bfsSync(model, { maxStates: 3 });
    expect(renderBfsText(inc, model, { color: false })).toContain('INCOMPLETE  state limit reached');
    expect(bfsToJson(inc, model).violation).toBeUndefined();
    expect(renderBfsText(bfsSync(model), model, { color: true })).toContain('\x1b[');
  });

  it('renders random results', () => {
    const model = bitVectorModel(6, { forbidPopcount: 3 });
    const r = randomExplore(model, { depth: 20, numRuns: 100, seed: 1 });
    expect(renderRandomText(r, model, { color: false })).toContain('violated after 3 steps (shrunk)');
    const json = randomToJson(r, model, { mode: 'random' });
    expect(json).toMatchObject({ mode: 'random', verdict: 'violation', seed: 1, violation: { depth: 3 } });
  });

  it('formats probabilities like TLC', () => {
    expect(formatProbability(0)).toBe('0.0');
    expect(formatProbability(1.234e-10)).toBe('1.2E-10');
    expect(formatProbability(0.0345)).toBe('0.035');
  });
});

describe('progress line', () => {
  const p = { level: 3, states: 1234567, transitions: 9e6, statesPerSecond: 345678, memoryBytes: 1e8, queue: 4321, seconds: 12.5 };

  it('writes nothing when not a TTY', () => {
    const out: string[] = [];
    const line = createProgressLine({ isTTY: false, write: (s: string) => (out.push(s), true) } as never);
    line.update(p);
    line.done();
    expect(line.enabled).toBe(false);
    expect(out).toEqual([]);
  });

  it('overwrites one line on a TTY and clears it at the end', () => {
    const out: string[] = [];
    const line = createProgressLine({ isTTY: true, columns: 200, write: (s: string) => (out.push(s), true) } as never);
    line.update(p);
    line.update(p);
    line.done();
    expect(out).toHaveLength(3);
    expect(out[0]!.startsWith('\r\x1b[2K')).toBe(true);
    expect(out[0]).toContain('level 3');
    expect(out[0]).toContain('states 1.23M');
    expect(out[2]).toBe('\r\x1b[2K');
    expect(formatProgress(p, 2 ** 30)).toContain('rss 1.0 GiB');
  });
});
