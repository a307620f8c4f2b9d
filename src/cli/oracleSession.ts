// Starting the live-kernel oracle from a command: one line and exit 2 when it cannot run.

import { OracleClient, OracleUnavailable } from '../oracle/client.ts';
import { EXIT_BAD_INPUT } from './errors.ts';

/** For a catch block: print why the oracle is unavailable and give exit code 2; rethrow anything else. */
export function oracleUnavailableExit(e: unknown): number {
  if (e instanceof OracleUnavailable) {
    process.stderr.write(`vmacheck: kernel oracle unavailable: ${e.message}\n`);
    return EXIT_BAD_INPUT;
  }
  throw e;
}

/** The oracle client, or null after printing why it is unavailable (the caller exits 2). */
export async function startOracle(): Promise<OracleClient | null> {
  try {
    return await OracleClient.start();
  } catch (e) {
    oracleUnavailableExit(e);
    return null;
  }
}
