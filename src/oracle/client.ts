// Node side of the live-kernel oracle: builds the C helper with the system compiler on first
// use, runs it as one long-lived process, pipelines command lines into it and resolves one promise
// per JSON reply line, in order. The helper and all its test processes live in their own process
// group, so one kill(-pgid) removes everything when Node exits, is interrupted, or the helper dies.

import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, existsSync, rmSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ERRNOS, type Errno, type Step, type StepResult } from '../scenario/step.ts';
import { stepToLine } from '../scenario/print.ts';
import { isOracleEnv, toOracleEnv, type OracleEnv } from './env.ts';
import { snapshotFromWire, type KernelSnapshot, type WireSnapshot } from './snapshot.ts';

export type { KernelSnapshot, KernelProc, KernelVma, KernelPage, KernelFileId } from './snapshot.ts';
export type { OracleEnv } from './env.ts';

const execFileP = promisify(execFile);

/** The oracle cannot run here (no compiler, build failure, not root, helper died). One-line message. */
export class OracleUnavailable extends Error {
  override name = 'OracleUnavailable';
}

/** The helper rejected a command or a test process misbehaved; the oracle itself is still alive. */
export class OracleError extends Error {
  override name = 'OracleError';
}

export interface OracleOptions {
  /** CPU the helper and its process tree are pinned to (env ORACLE_CPU of the helper). Default 0. */
  cpu?: number;
  /** C compiler; default $CC or 'cc'. */
  cc?: string;
  /** Where the compiled helper is cached; default <repo>/build/oracle, else the OS temp dir. */
  buildDir?: string;
  /** Run without root: PFNs and kpageflags are then invisible. Default false (refuse). */
  allowNonRoot?: boolean;
}

/** A step's outcome; `pid` is the new process's pid after a successful fork. */
export interface ExecResult extends StepResult {
  pid?: number;
}

/** One reply line of the helper. */
interface WireReply {
  ok: boolean;
  errno?: string;
  error?: string;
  value?: number;
  pid?: number;
}

// ---------------------------------------------------------------- building

const HELPER_SOURCE = fileURLToPath(new URL('./helper.c', import.meta.url));
const REPO_BUILD_DIR = fileURLToPath(new URL('../../build/oracle/', import.meta.url));

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

function writableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function compile(cc: string, out: string, isStatic: boolean): Promise<void> {
  // A static binary forks ~30% faster (fewer VMAs to copy), and forks dominate the cost.
  const args = ['-O2', '-Wall', ...(isStatic ? ['-static'] : []), '-o', out, HELPER_SOURCE];
  await execFileP(cc, args, { timeout: 120_000 });
}

/** Compiles helper.c unless a binary for its current content hash is cached; returns its path. */
export async function buildHelper(opts: OracleOptions = {}): Promise<string> {
  const cc = opts.cc ?? process.env['CC'] ?? 'cc';
  const source = readFileSync(HELPER_SOURCE);
  const hash = createHash('sha256').update(source).update(cc).digest('hex').slice(0, 16);
  const dir = opts.buildDir ?? (writableDir(REPO_BUILD_DIR) ? REPO_BUILD_DIR : join(tmpdir(), 'vmacheck-oracle'));
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `helper-${hash}`);
  if (existsSync(bin)) return bin;
  // Concurrent builders (parallel test files) each write their own temp file and rename it
  // into place; rename is atomic, so nobody ever runs a half-written binary.
  const tmp = `${bin}.tmp-${process.pid}-${Date.now()}`;
  try {
    try {
      await compile(cc, tmp, true);
    } catch (e) {
      if (isMissing(e)) throw new OracleUnavailable(`C compiler '${cc}' not found: the kernel oracle needs one to build its helper`);
      await compile(cc, tmp, false); // no static libc: a dynamic helper works, only slower
    }
    renameSync(tmp, bin);
    pruneStale(dir, bin);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof OracleUnavailable) throw e;
    const stderr = typeof e === 'object' && e !== null && 'stderr' in e ? String(e.stderr) : String(e);
    // gcc starts with "In function ..." context; the line that says "error" is the useful one.
    const errLine = stderr.split('\n').find((l) => /\berror\b/.test(l)) ?? firstLine(stderr);
    throw new OracleUnavailable(`building the oracle helper failed: ${errLine.trim()}`);
  }
  return bin;
}

/** Child stdio pipes are net.Sockets at run time; only sockets can be (un)ref'd. */
function asSocket(s: Readable): Socket {
  return s as unknown as Socket;
}

/** Removes helpers built from older sources. Running ones keep their inode, so this is safe. */
function pruneStale(dir: string, keep: string): void {
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    if (/^helper-[0-9a-f]{16}$/.test(f) && path !== keep) rmSync(path, { force: true });
  }
}

function isMissing(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === 'ENOENT';
}

// ---------------------------------------------------------------- step encoding

/** A step as one helper command line: the helper speaks the scenario file syntax. */
export { stepToLine };

function isErrno(s: string): s is Errno {
  return (ERRNOS as readonly string[]).includes(s);
}

// ---------------------------------------------------------------- cleanup on process exit

const live = new Set<OracleClient>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAllSync(): void {
  for (const c of live) c.killNow();
}

function onSignal(sig: NodeJS.Signals): void {
  // Our listener suppressed Node's default action (terminate); restore it unless someone else
  // handles the signal. Count before cleanup, which uninstalls our listener.
  const others = process.listenerCount(sig) - 1;
  killAllSync();
  uninstallHooks();
  if (others === 0) process.kill(process.pid, sig);
}

let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}
function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killAllSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}

// ---------------------------------------------------------------- the client

interface Pending {
  line: string;
  resolve: (r: WireReply | WireSnapshot) => void;
  reject: (e: Error) => void;
}

export class OracleClient {
  private readonly pending: Pending[] = [];
  private buffered = '';
  private stderrTail = '';
  private dead: Error | null = null;
  private corked = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly env: OracleEnv) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Builds (if needed) and starts a helper; resolves once its env record has arrived. */
  static async start(opts: OracleOptions = {}): Promise<OracleClient> {
    if (!opts.allowNonRoot && process.getuid?.() !== 0) {
      throw new OracleUnavailable('the kernel oracle needs root (PFNs in pagemap, /proc/kpageflags)');
    }
    const bin = await buildHelper(opts);
    const child = spawn(bin, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: kill(-pid) reaches every test process
      env: { ...process.env, ORACLE_CPU: String(opts.cpu ?? 0) },
    });
    const { env, rest } = await OracleClient.readEnv(child);
    const client = new OracleClient(child, env);
    client.buffered = rest;
    client.attach();
    return client;
  }

  /** Waits for the first line, which must be the env record; also returns what followed it. */
  private static readEnv(child: ChildProcessWithoutNullStreams): Promise<{ env: OracleEnv; rest: string }> {
    return new Promise((resolve, reject) => {
      let buf = '';
      let err = '';
      const fail = (why: string): void => {
        cleanup();
        try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* already gone */ }
        reject(new OracleUnavailable(`oracle helper failed to start: ${why}`));
      };
      const onData = (d: Buffer): void => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        let v: unknown;
        try { v = JSON.parse(line); } catch { fail(`unparsable first line: ${line.slice(0, 200)}`); return; }
        if (!isOracleEnv(v)) {
          fail(typeof v === 'object' && v !== null && 'error' in v ? String(v.error) : line.slice(0, 200));
          return;
        }
        cleanup();
        resolve({ env: toOracleEnv(v), rest: buf.slice(nl + 1) });
      };
      const onErr = (d: Buffer): void => { err += d.toString(); };
      const onExit = (code: number | null, sig: string | null): void =>
        fail(firstLine(err) || `exited (${sig ?? `code ${code}`})`);
      const onSpawnError = (e: Error): void => fail(e.message);
      function cleanup(): void {
        child.stdout.off('data', onData);
        child.stderr.off('data', onErr);
        child.off('exit', onExit);
        child.off('error', onSpawnError);
      }
      child.stdout.on('data', onData);
      child.stderr.on('data', onErr);
      child.on('exit', onExit);
      child.on('error', onSpawnError);
    });
  }

  private attach(): void {
    live.add(this);
    installHooks();
    this.child.stdout.on('data', (d: Buffer) => this.onData(d.toString()));
    this.child.stderr.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString()).slice(-2000); });
    this.child.on('exit', (code, sig) => this.onExit(code, sig));
    this.child.stdin.on('error', () => { /* reported through 'exit' */ });
    this.idle();
  }

  /** Helper pid (also the process group id of the whole tree). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Kills helper and test processes synchronously (for exit hooks). */
  killNow(): void {
    if (this.child.pid !== undefined) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* group already empty */ }
    }
    live.delete(this);
    if (live.size === 0) uninstallHooks();
  }

  private onExit(code: number | null, sig: string | null): void {
    const why = firstLine(this.stderrTail);
    this.dead ??= new OracleUnavailable(`oracle helper died (${sig ?? `exit code ${code}`})${why ? `: ${why}` : ''}`);
    this.killNow(); // test processes would exit on EOF anyway; this makes it immediate
    for (const p of this.pending.splice(0)) p.reject(this.dead);
  }

  private onData(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue; // the reply to 'quit' after close() stopped waiting
      try {
        p.resolve(JSON.parse(line) as WireReply | WireSnapshot);
      } catch {
        p.reject(new OracleError(`unparsable reply to '${p.line}': ${line.slice(0, 200)}`));
      }
    }
    if (this.pending.length === 0) this.idle();
  }

  /** While nothing is pending, let Node exit; the exit hook then kills the helper. */
  private idle(): void {
    this.child.unref();
    asSocket(this.child.stdout).unref();
    asSocket(this.child.stderr).unref();
  }
  private busy(): void {
    this.child.ref();
    asSocket(this.child.stdout).ref();
  }

  /** Sends one raw command line; resolves with its raw reply. Lines sent in one tick go out in one write. */
  send(line: string): Promise<WireReply | WireSnapshot> {
    if (this.dead) return Promise.reject(this.dead);
    if (line.includes('\n')) return Promise.reject(new OracleError('a command is one line'));
    return new Promise((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.busy();
      if (!this.corked) {
        this.corked = true;
        this.child.stdin.cork();
        queueMicrotask(() => { this.corked = false; this.child.stdin.uncork(); });
      }
      this.child.stdin.write(`${line}\n`);
    });
  }

  private async command(line: string): Promise<WireReply> {
    const r = (await this.send(line)) as WireReply;
    if (!r.ok && r.error !== undefined) throw new OracleError(`'${line}': ${r.error}`);
    return r;
  }

  /** Kills the whole test tree and starts a fresh process 0; returns its pid. */
  async reset(): Promise<{ pid: number }> {
    const r = await this.command('reset');
    return { pid: r.pid ?? 0 };
  }

  /** Runs one step. Kernel errors come back as errno; protocol problems throw OracleError. */
  async exec(step: Step): Promise<ExecResult> {
    const line = stepToLine(step);
    const r = await this.command(line);
    if (r.ok) {
      const res: ExecResult = { errno: null };
      if (r.value !== undefined) res.value = r.value;
      if (r.pid !== undefined) res.pid = r.pid;
      return res;
    }
    const e = r.errno ?? '';
    if (!isErrno(e)) throw new OracleError(`'${line}' failed with ${e}, which scenarios cannot express`);
    return { errno: e };
  }

  /** Runs steps pipelined (one write, one read); results in order. */
  execAll(steps: readonly Step[]): Promise<ExecResult[]> {
    return Promise.all(steps.map((s) => this.exec(s)));
  }

  /** VMAs and pages of every live process, read while all of them are blocked. */
  async observe(): Promise<KernelSnapshot> {
    const r = await this.send('observe');
    if (!r.ok) throw new OracleError(`observe: ${(r as WireReply).error ?? 'failed'}`);
    return snapshotFromWire(r as WireSnapshot);
  }

  /** Stops the helper; resolves once it and every test process are gone. Idempotent. */
  async close(): Promise<void> {
    if (!this.dead && this.child.exitCode === null && this.child.signalCode === null) {
      this.dead = new OracleError('oracle client closed');
      this.busy();
      this.child.stdin.end('quit\n');
      const timer = setTimeout(() => this.killNow(), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.killNow();
  }
}

/** Whether the oracle can run here; used by tests to skip with a reason. */
export async function probeOracle(opts: OracleOptions = {}): Promise<{ ok: true; env: OracleEnv } | { ok: false; reason: string }> {
  try {
    const c = await OracleClient.start(opts);
    const env = c.env;
    await c.close();
    if (!env.kpage) return { ok: false, reason: '/proc/kpageflags is not readable' };
    return { ok: true, env };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
