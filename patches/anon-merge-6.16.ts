// Commit 879bca0a2c4f (Linux 6.16), "mm/vma: fix incorrectly disallowed anonymous VMA merges",
// as a patch: apply it to the v6.12 profile to see the merges it gains.
//   vmacheck compare specs/merge.ts --profile v6.12 --patch patches/anon-merge-6.16.ts
export { default } from '../src/model/history/anonMerge616.ts';
