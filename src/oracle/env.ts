// The helper's `env` record (the first line it prints) and how it maps onto model parameters.
// The model's behaviour depends on these facts of the machine, so a comparison against the live
// kernel is only meaningful when the model runs with the parameters derived here.

/** How the helper decided whether read faults map the shared zero page. */
export type ZeroPageMethod = 'kpageflags' | 'pfn' | 'exclusive-bit' | 'failed';

/** The environment record exactly as the helper reports it. */
export interface OracleEnv {
  /** `uname -r`. */
  release: string;
  /** A read fault on a never-written private anon page mapped the shared zero page (measured at startup). */
  zeroPage: boolean;
  zeroPageMethod: ZeroPageMethod;
  /** PFN of the zero page as seen by the probe (0 when unknown or not mapped). */
  zeroPfn: number;
  /** /sys/module/kernel/parameters/pvm_no_zero_page ('' when the parameter does not exist). */
  pvmNoZeroPage: string;
  /** Selected mode of /sys/kernel/mm/transparent_hugepage/enabled, e.g. 'madvise'. */
  thp: string;
  shmemThp: string;
  /** mTHP sizes that are not 'never', as 'SIZE:mode' (e.g. '2048kB:inherit'). */
  mthp: string[];
  /** PR_SET_THP_DISABLE is in effect for the test tree. */
  thpDisabled: boolean;
  /** /sys/kernel/mm/ksm/run. */
  ksm: number;
  /** vm.overcommit_memory. */
  overcommit: number;
  /** /proc/kpageflags and /proc/kpagecount are readable (needs root). */
  kpage: boolean;
  root: boolean;
  /** /proc/vmstat pgmigrate_success at startup. */
  migr: number;
  cpu: number;
  helperPid: number;
  /** Arena base address as a hex string. */
  arena: string;
  arenaPages: number;
  maxProcs: number;
  files: number;
  filePages: number;
}

export type KernelProfile = 'v6.12' | 'v6.18';

/** What the model needs to know about the kernel it is compared against. */
export interface ModelParams {
  zeroPage: boolean;
  overcommit: 0 | 1 | 2;
  release: string;
  profile: KernelProfile;
}

export type ModelParamsResult = { ok: true; params: ModelParams } | { ok: false; reason: string };

/** Parses 'major.minor' from a release string like '6.18.44-fc-v657'. */
export function kernelVersion(release: string): { major: number; minor: number } | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/** Merge rules changed in 6.16 (vma_modify rework), so two profiles cover 6.12..now. */
export function kernelProfile(release: string): { ok: true; profile: KernelProfile } | { ok: false; reason: string } {
  const v = kernelVersion(release);
  if (!v) return { ok: false, reason: `cannot parse kernel release '${release}'` };
  const n = v.major * 1000 + v.minor;
  if (n >= 6016) return { ok: true, profile: 'v6.18' };
  if (n >= 6012) return { ok: true, profile: 'v6.12' };
  return { ok: false, reason: `kernel ${release} is older than 6.12, which the model does not cover` };
}

/** Turns the env record into model parameters, or says why this machine cannot serve as oracle. */
export function modelParams(env: OracleEnv): ModelParamsResult {
  const prof = kernelProfile(env.release);
  if (!prof.ok) return prof;
  if (env.zeroPageMethod === 'failed') return { ok: false, reason: 'the zero-page probe failed' };
  if (env.overcommit !== 0 && env.overcommit !== 1 && env.overcommit !== 2) {
    return { ok: false, reason: `unexpected vm.overcommit_memory=${env.overcommit}` };
  }
  return {
    ok: true,
    params: { zeroPage: env.zeroPage, overcommit: env.overcommit, release: env.release, profile: prof.profile },
  };
}

/** Facts of the machine that make page-level results nondeterministic or unlike the model's. */
export function envWarnings(env: OracleEnv): string[] {
  const w: string[] = [];
  if (!env.kpage) w.push('kpageflags unreadable: PFNs, ANON and AnonExclusive are not observable (not root?)');
  if (env.ksm !== 0) w.push(`KSM is running (run=${env.ksm}): identical pages may be merged`);
  if (!env.thpDisabled) w.push('PR_SET_THP_DISABLE is not in effect: large folios may appear');
  if (env.migr !== 0) w.push(`pgmigrate_success=${env.migr}: pages have been migrated on this machine (PFNs may move)`);
  return w;
}

/** Checks the shape of a parsed env line (the helper's own output, so a light check suffices). */
export function isOracleEnv(v: unknown): v is OracleEnv {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o['env'] === true && typeof o['release'] === 'string' && typeof o['zeroPage'] === 'boolean'
    && typeof o['overcommit'] === 'number' && typeof o['kpage'] === 'boolean' && Array.isArray(o['mthp']);
}

/** Strips the wire marker so the record holds only OracleEnv fields. */
export function toOracleEnv(v: OracleEnv & { env?: unknown }): OracleEnv {
  const { env: _marker, ...rest } = v;
  return rest;
}
