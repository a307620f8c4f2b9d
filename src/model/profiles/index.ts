// Kernel profiles: the base model (Linux 6.12.117) plus the ordered patches that lead to a later
// kernel, so that a profile reads like kernel history.

import type { Patch } from '../patch.ts';
import anonMerge616 from '../history/anonMerge616.ts';
import copiedFrom from '../history/copiedFrom.ts';
import mremap617 from '../history/mremap617.ts';

export interface Profile {
  name: ProfileName;
  description: string;
  patches: readonly Patch[];
}

export type ProfileName = 'v6.12' | 'v6.18';
export const PROFILE_NAMES: readonly ProfileName[] = ['v6.12', 'v6.18'];

export const PROFILES: Record<ProfileName, Profile> = {
  'v6.12': {
    name: 'v6.12',
    description: 'Linux 6.12.117 (Debian linux-source-6.12): the base model',
    patches: [],
  },
  'v6.18': {
    name: 'v6.18',
    description: 'Linux 6.18.y: 6.12 + 879bca0a2c4f (6.16 anon merge predicate) + the 6.17 mremap rework (early checks, multi-VMA moves, DONTUNMAP self-merge) + copied_from (6.18.y)',
    patches: [anonMerge616, mremap617, copiedFrom],
  },
};

export function isProfileName(s: string): s is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(s);
}
