// The vmacheck command line. Each command lives in its own file; this wires them to commander
// and maps outcomes to exit codes (0 pass, 1 violation, 2 bad input, 3 incomplete).

import { Command, CommanderError, Option } from 'commander';
import { ScenarioError } from '../scenario/types.ts';
import { EXIT_BAD_INPUT, UsageError } from './errors.ts';
import { loadPatch, parseInvariants } from './setup.ts';
import { runFiles } from './runCommand.ts';
import { runCheck } from './checkCommand.ts';
import { runKernelFiles } from './kernelRun.ts';
import { runFuzzCommand } from './fuzzCommand.ts';
import { runCompare } from './compareCommand.ts';
import { loadSpec, SpecError } from '../spec/load.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A non-negative integer option, or a UsageError naming the option. */
function intOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('vmacheck')
    .description('Model checker for the Linux kernel\'s VMA and anon_vma (reverse mapping) machinery')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program.command('run')
    .description('replay scenario files (.vmt) on the model, checking every expect and invariant')
    .argument('<files...>', 'scenario files')
    .option('--profile <name>', 'kernel profile (v6.12, v6.18); default: the scenario\'s, else the running kernel\'s')
    .option('--patch <file>', 'patch module to apply (repeatable)', collect, [])
    .option('--invariants <list>', 'default, all, or a comma list of invariant ids')
    .addOption(new Option('--zero-page', 'read faults map the shared zero page'))
    .addOption(new Option('--no-zero-page', 'read faults allocate a page (pvm_no_zero_page=1)'))
    .option('--json', 'one JSON object per run')
    .option('-q, --quiet', 'print failures only')
    .option('--keep-going', 'go on after a broken invariant; report every invariant that breaks and where')
    .option('--kernel', 'run the files on the live kernel instead of the model (needs root and cc)')
    .option('--both', 'run model and live kernel step by step and report the first divergence')
    .action(async (files: string[], o: { profile?: string; patch: string[]; invariants?: string; zeroPage?: boolean; json?: boolean; quiet?: boolean; keepGoing?: boolean; kernel?: boolean; both?: boolean }) => {
      const patches = await Promise.all(o.patch.map(loadPatch));
      if (o.kernel === true || o.both === true) {
        if (o.kernel === true && o.both === true) throw new UsageError('--kernel and --both exclude each other');
        if (o.zeroPage !== undefined) throw new UsageError('--zero-page/--no-zero-page do not apply to the live kernel: the machine decides');
        code = await runKernelFiles(files, { mode: o.kernel === true ? 'kernel' : 'both', profile: o.profile, patches, json: o.json === true, quiet: o.quiet === true });
        return;
      }
      code = runFiles(files, { profile: o.profile, zeroPage: o.zeroPage, invariants: parseInvariants(o.invariants), patches, json: o.json === true, quiet: o.quiet === true, keepGoing: o.keepGoing === true });
    });

  program.command('check')
    .description('explore every state reachable within the depth bound; print the shortest counterexample')
    .argument('<spec>', 'spec module (specs/*.ts)')
    .option('--depth <n>', 'depth bound (default: the spec\'s)', intOption('--depth', 0))
    .option('--profile <name>', 'kernel profile (v6.12, v6.18)')
    .option('--patch <file>', 'patch module to apply (repeatable)', collect, [])
    .option('--invariants <list>', 'default, all, or a comma list of invariant ids')
    .option('--max-states <n>', 'stop (incomplete) after this many distinct states', intOption('--max-states', 1))
    .option('--max-memory <mb>', 'stop (incomplete) before the explorer uses more than this', intOption('--max-memory', 1))
    .option('--max-seconds <s>', 'stop (incomplete) after this many seconds', intOption('--max-seconds', 1))
    .option('--random <runs>', 'random deep mode: this many random runs (fast-check), shrunk on failure', intOption('--random', 1))
    .option('--seed <n>', 'seed for --random', intOption('--seed', 0))
    .option('--workers <n>', 'worker threads for the breadth-first search (1: sequential, the default)', intOption('--workers', 1))
    .addOption(new Option('--zero-page', 'read faults map the shared zero page'))
    .addOption(new Option('--no-zero-page', 'read faults allocate a page (pvm_no_zero_page=1)'))
    .option('--json', 'print one final JSON object')
    .action(async (specFile: string, o: { depth?: number; profile?: string; patch: string[]; invariants?: string; maxStates?: number; maxMemory?: number; maxSeconds?: number; random?: number; seed?: number; workers?: number; zeroPage?: boolean; json?: boolean }) => {
      const spec = await loadSpec(specFile);
      const patches = await Promise.all(o.patch.map(loadPatch));
      code = await runCheck({
        specFile, spec, depth: o.depth, profile: o.profile, zeroPage: o.zeroPage, maxStates: o.maxStates, maxMemoryMb: o.maxMemory, maxSeconds: o.maxSeconds,
        invariants: o.invariants, patches, patchFiles: o.patch, json: o.json === true, random: o.random, seed: o.seed, workers: o.workers,
      });
    });

  program.command('compare')
    .description('what a patch breaks (invariants) and what it changes (observable behaviour), explored to the same depth')
    .argument('<spec>', 'spec module (specs/*.ts)')
    .requiredOption('--patch <file>', 'patch module (repeatable)', collect, [])
    .option('--depth <n>', 'depth bound (default: the spec\'s)', intOption('--depth', 0))
    .option('--profile <name>', 'kernel profile of the baseline (v6.12, v6.18)')
    .option('--invariants <list>', 'default, all, or a comma list of invariant ids')
    .addOption(new Option('--zero-page', 'read faults map the shared zero page'))
    .addOption(new Option('--no-zero-page', 'read faults allocate a page (pvm_no_zero_page=1)'))
    .option('--json', 'print one final JSON object')
    .action(async (specFile: string, o: { patch: string[]; depth?: number; profile?: string; invariants?: string; zeroPage?: boolean; json?: boolean }) => {
      const spec = await loadSpec(specFile);
      const patches = await Promise.all(o.patch.map(loadPatch));
      code = runCompare({ specFile, spec, depth: o.depth, profile: o.profile, zeroPage: o.zeroPage, invariants: o.invariants, patches, patchFiles: o.patch, json: o.json === true });
    });

  program.command('fuzz')
    .description('differential fuzzing: random scenarios on the model and the live kernel; a divergence is shrunk to a minimal scenario')
    .option('--count <n>', 'number of random scenarios (default 1000)', intOption('--count', 1))
    .option('--seed <n>', 'fast-check seed (default: random, printed)', intOption('--seed', 0))
    .option('--profile <name>', 'model profile (default: the running kernel\'s)')
    .option('--patch <file>', 'patch module to apply to the model (repeatable)', collect, [])
    .option('--out <file>', 'where to write the minimal diverging scenario (default vmacheck-divergence.vmt)')
    .option('--json', 'end with one JSON object')
    .option('--each', 'observe the kernel after every step (slower; also catches divergences that later steps erase)')
    .action(async (o: { count?: number; seed?: number; profile?: string; patch: string[]; out?: string; json?: boolean; each?: boolean }) => {
      const patches = await Promise.all(o.patch.map(loadPatch));
      code = await runFuzzCommand({ count: o.count ?? 1000, seed: o.seed, profile: o.profile, patches, patchFiles: o.patch, out: o.out, json: o.json === true, each: o.each === true });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    if (e instanceof UsageError || e instanceof ScenarioError || e instanceof SpecError) {
      process.stderr.write(`vmacheck: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  return code;
}
