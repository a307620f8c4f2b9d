// Bootstrap of a parallel-search worker thread: a new thread starts without the TypeScript loader
// the main thread may have (bin/vmacheck.mjs registers tsx; vitest transforms on its own), so
// register tsx here, then load the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./parallelWorker.ts');
