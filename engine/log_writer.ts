// Run logs in the work dir: `<timestamp>.log` (the lines printed) and `<timestamp>.log.json` (one JSON
// object per line), plus a progress bar with ETA on stdout when it is a terminal.
import { join } from '#platform/path';
import { appendText, makeDir } from '../core/fsio';

export interface LogSink {
  /** A line for humans: printed and appended to the text log. */
  info(line: string): void;
  /** A record appended to the JSON-lines log. */
  json(record: Record<string, unknown>): void;
  /** Transient progress (TTY only); `done`/`total` in iterations. */
  progress(done: number, total: number, note: string): void;
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** h:mm:ss ETA formatting lives with the progress bar (core/progress); re-exported for the logger. */
export { formatDuration } from '../core/progress';

export class FileLogSink implements LogSink {
  readonly textPath: string;
  readonly jsonPath: string;
  private progressShown = false;
  private dirMade = false;

  constructor(
    readonly workDir: string,
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean } = process.stdout,
    /** Echo lines to `out` (tests turn this off). */
    private readonly echo = true,
  ) {
    // The folder is made at the first line written, so a run refused before it logs anything leaves
    // no empty work dir behind.
    const base = stamp();
    this.textPath = join(workDir, `${base}.log`);
    this.jsonPath = join(workDir, `${base}.log.json`);
  }

  private append(path: string, text: string): void {
    if (!this.dirMade) {
      makeDir(this.workDir);
      this.dirMade = true;
    }
    appendText(path, text);
  }

  info(line: string): void {
    const t = new Date().toISOString().replace('T', ' ').slice(0, 19);
    this.append(this.textPath, `${t} - ${line}\n`);
    if (!this.echo) return;
    if (this.progressShown) {
      this.out.write('\r\x1b[2K');
      this.progressShown = false;
    }
    this.out.write(`${line}\n`);
  }

  json(record: Record<string, unknown>): void {
    this.append(this.jsonPath, `${JSON.stringify(record)}\n`);
  }

  progress(done: number, total: number, note: string): void {
    if (!this.echo || !this.out.isTTY) return;
    const width = 30;
    const filled = Math.min(width, Math.round((width * done) / Math.max(total, 1)));
    const bar = `[${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}]`;
    this.out.write(`\r\x1b[2K${bar} ${done}/${total} ${note}`);
    this.progressShown = true;
  }
}

/** Keeps log records in memory (tests, embedding). */
export class MemoryLogSink implements LogSink {
  readonly lines: string[] = [];
  readonly records: Record<string, unknown>[] = [];
  info(line: string): void {
    this.lines.push(line);
  }
  json(record: Record<string, unknown>): void {
    this.records.push(record);
  }
  progress(): void {}
}
