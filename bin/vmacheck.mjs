#!/usr/bin/env node
// Entry point: registers the TypeScript loader (specs and patches are .ts modules) and runs the CLI.
// Exploring commands get a JavaScript heap sized to the machine (V8's default is about 4 GiB), so
// that their memory limits, not an out-of-memory crash, end a large run.
import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const EXPLORING = new Set(['check', 'compare']);
const wantMb = Math.floor((totalmem() * 0.75) / 1048576);
const haveMb = getHeapStatistics().heap_size_limit / 1048576;

if (EXPLORING.has(process.argv[2] ?? '') && process.env.VMACHECK_CHILD !== '1' && haveMb < wantMb * 0.9) {
  const child = spawn(process.execPath, [`--max-old-space-size=${wantMb}`, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, VMACHECK_CHILD: '1' },
  });
  // Ctrl-C reaches the child too (same process group); it stops cleanly and reports.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128 + 2);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
