// A live single-line progress display on a TTY (stderr by default), overwritten with \r and
// cleared at the end. Does nothing when the stream is not a TTY.

import type { BfsProgress } from './bfs.ts';
import { formatBytes, formatCompact, formatSeconds } from './format.ts';

export interface ProgressLine {
  /** Whether anything is displayed (the stream is a TTY). */
  readonly enabled: boolean;
  /** Redraw the line; usable directly as BfsOptions.onProgress. */
  update(p: BfsProgress): void;
  /** Clear the line (call before printing the result). */
  done(): void;
}

/** The progress text (without control characters). `rss` in bytes. */
export function formatProgress(p: BfsProgress, rss: number): string {
  return [
    `level ${p.level}`,
    `states ${formatCompact(p.states)}`,
    `${formatCompact(p.statesPerSecond)}/s`,
    `transitions ${formatCompact(p.transitions)}`,
    `rss ${formatBytes(rss)}`,
    `queue ${formatCompact(p.queue)}`,
    formatSeconds(p.seconds),
  ].join('  ');
}

type Stream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };

export function createProgressLine(stream: Stream = process.stderr): ProgressLine {
  const enabled = stream.isTTY === true;
  let shown = false;
  return {
    enabled,
    update(p: BfsProgress): void {
      if (!enabled) return;
      let text = formatProgress(p, process.memoryUsage.rss());
      const cols = stream.columns ?? 0;
      if (cols > 1 && text.length > cols - 1) text = text.slice(0, cols - 1);
      stream.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done(): void {
      if (!enabled || !shown) return;
      stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
