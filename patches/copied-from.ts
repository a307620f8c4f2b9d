// Upstream 61f67c230a5e and 3b617fd3d317 ("fix anon_vma UAF on mremap() faulted, unfaulted merge"),
// queued for 6.18.y in January 2026: copy_vma() merges record copied_from, so a faulted VMA moved
// next to an unfaulted one hands its anon_vma to the merge target. Apply after anon-merge-6.16.ts.
export { default } from '../src/model/history/copiedFrom.ts';
