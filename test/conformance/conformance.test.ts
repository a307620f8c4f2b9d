// Every conformance scenario (selftests/mm/merge.c cases, tools/testing/vma cases expressible as
// syscalls, and live-kernel observations) replayed on the model with its profile; each must pass.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/run.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES, isProfileName } from '../../src/model/profiles/index.ts';
import { DEFAULT_INVARIANTS } from '../../src/invariants/index.ts';

const here = new URL('.', import.meta.url).pathname;

function scenarios(dir: string): string[] {
  return readdirSync(join(here, dir)).filter((f) => f.endsWith('.vmt')).sort().map((f) => join(dir, f));
}

function run(file: string) {
  const sc = parseScenario(readFileSync(join(here, file), 'utf8'), file);
  const profile = sc.profile ?? 'v6.18';
  if (!isProfileName(profile)) throw new Error(`bad profile in ${file}`);
  const zeroPage = sc.requires.includes('no-zero-page') ? false : sc.params.zeroPage ?? true;
  const k = buildKernel(profile, PROFILES[profile].patches, { zeroPage, overcommit: sc.params.overcommit ?? 0 });
  return runScenario(k, sc, DEFAULT_INVARIANTS);
}

describe('conformance scenarios, v6.18 (the running kernel\'s profile)', () => {
  const files = scenarios('.');
  it('there are scenarios to run', () => expect(files.length).toBeGreaterThan(40));
  for (const f of files) {
    it(f, () => {
      const out = run(f);
      expect(out.failure, JSON.stringify(out.failure)).toBeNull();
    });
  }
});

describe('conformance scenarios, v6.12 variants (results the 6.12 merge rules give)', () => {
  for (const f of scenarios('v6.12')) {
    it(f, () => {
      const out = run(f);
      expect(out.failure, JSON.stringify(out.failure)).toBeNull();
    });
  }
  it('the v6.18 expectations of S01 fail on v6.12 (the 6.16 merge predicate matters)', () => {
    const sc = parseScenario(readFileSync(join(here, 'S01-mprotect_unfaulted_left.vmt'), 'utf8'), 'S01');
    const out = runScenario(buildKernel('v6.12', [], { zeroPage: true, overcommit: 0 }), sc, DEFAULT_INVARIANTS);
    expect(out.failure?.kind).toBe('expect');
  });
});
