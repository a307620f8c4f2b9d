#!/usr/bin/env node
// `npm run bench`: exploration throughput of the kernel model on the shipped specs (one core;
// `-- --workers N` adds a row with N worker threads).
// Registers the TypeScript loader and runs src/explore/bench.ts; pass --quick for a short run.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/explore/bench.ts');
process.exitCode = await main(process.argv.slice(2));
