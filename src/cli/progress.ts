/**
 * One progress line (on stderr, through `write`): redrawn in place on a terminal; else (a log, cron) the first update
 * of each phase (the text before its colon) and then one every `intervalMs`, so a long job shows
 * it is moving without flooding the log.
 */
export function progressLine(write: (text: string) => void, tty: boolean, intervalMs = 5000): { update(text: string): void; done(): void } {
  let last = -Infinity;
  let shown = false;
  let phase: string | undefined;
  return {
    update(text) {
      const now = performance.now();
      if (tty) {
        write(`\r\x1b[K${text}`);
        shown = true;
      } else if (now - last >= intervalMs || !text.startsWith(`${phase}:`)) {
        last = now;
        phase = text.split(':', 1)[0];
        write(`${text}\n`);
      }
    },
    done() {
      if (tty && shown) write('\r\x1b[K');
    },
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${Math.round(seconds % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}
