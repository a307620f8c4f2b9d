// Nothing may outlive the oracle: not after close(), not when the helper dies, not when the Node
// process exits or is signalled without calling close().

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildHelper, OracleClient, OracleUnavailable, probeOracle } from '../../src/oracle/client.ts';
import { alive, groupMembers, waitGone } from './util.ts';

const probe = await probeOracle();
const title = probe.ok ? 'oracle cleanup' : `oracle cleanup (skipped: ${probe.reason})`;
const HOLD = fileURLToPath(new URL('./fixtures/hold.ts', import.meta.url));

/** Runs the fixture in a fresh Node process; resolves with the pids it reports. */
async function runHold(mode: 'exit' | 'wait'): Promise<{ node: ReturnType<typeof spawn>; helper: number; tree: number[] }> {
  const node = spawn(process.execPath, ['--import', 'tsx', HOLD, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: node.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    node.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
  });
  const { helper, tree } = JSON.parse(first) as { helper: number; tree: number[] };
  return { node, helper, tree };
}

describe.skipIf(!probe.ok)(title, () => {
  it('close() leaves neither helper nor test processes', async () => {
    const c = await OracleClient.start();
    await c.reset();
    await c.execAll([{ op: 'fork', proc: 0, child: 1 }, { op: 'fork', proc: 1, child: 2 }]);
    const pids = [c.pid, ...(await c.observe()).procs.map((p) => p.pid)];
    expect(pids).toHaveLength(4);
    expect(pids.every(alive)).toBe(true);
    await c.close();
    expect(pids.filter(alive)).toEqual([]);
    expect(groupMembers(c.pid)).toEqual([]);
    await c.close(); // idempotent
  });

  it('test processes exit on their own when the helper is SIGKILLed (EOF + PDEATHSIG)', async () => {
    // Drive the raw helper, without the client, whose crash handler would kill the group itself.
    const bin = await buildHelper();
    const h = spawn(bin, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = createInterface({ input: h.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, unknown>> => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
    await next(); // env
    h.stdin.write('reset\n0 fork 1\n1 fork 2\n');
    const pids = [Number((await next())['pid']), Number((await next())['pid']), Number((await next())['pid'])];
    expect(pids.every(alive)).toBe(true);
    h.kill('SIGKILL');
    expect(await waitGone(pids)).toEqual([]);
  });

  it('a helper crash rejects pending calls with OracleUnavailable and cleans up', async () => {
    const c = await OracleClient.start();
    const { pid } = await c.reset();
    const pending = c.observe();
    process.kill(c.pid, 'SIGKILL');
    await expect(pending).rejects.toThrow(OracleUnavailable);
    await expect(c.exec({ op: 'read', proc: 0, page: 0 })).rejects.toThrow(/helper died/);
    expect(await waitGone([pid])).toEqual([]);
    await c.close();
  });

  it('a Node process that exits without close() takes the tree with it', async () => {
    const { node, helper, tree } = await runHold('exit');
    await new Promise((r) => node.once('exit', r));
    expect(await waitGone([helper, ...tree], 1000)).toEqual([]);
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`a Node process killed by ${sig} takes the tree with it and still dies of the signal`, async () => {
      const { node, helper, tree } = await runHold('wait');
      expect([helper, ...tree].every(alive)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((r) => node.once('exit', (_code, s) => r(s)));
      node.kill(sig);
      expect(await exited).toBe(sig);
      expect(await waitGone([helper, ...tree], 1000)).toEqual([]);
    });
  }
});
