// Starting the live-kernel oracle from a command: one line and exit 2 when it cannot run.

import { OracleClient, OracleUnavailable } from '../oracle/client.ts';

/** The oracle client, or null after printing why it is unavailable (the caller exits 2). */
export async function startOracle(): Promise<OracleClient | null> {
  try {
    return await OracleClient.start();
  } catch (e) {
    if (e instanceof OracleUnavailable) {
      process.stderr.write(`vmacheck: kernel oracle unavailable: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}
