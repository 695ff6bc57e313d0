// The one progress bar of every long loop (tools/eval, tools/infer over many images, dataset
// conversion, coco_eval): on a terminal an in-place bar with rate and ETA, as mmcv's ProgressBar
// ("[>>>   ] 37/100, 4.2 task/s, elapsed: 9s, ETA: 15s"); otherwise (logs, CI, pipes) a plain line
// at most every `intervalS` seconds and at every 10% step, so log files stay short.

/** h:mm:ss, or d day(s), h:mm:ss as mmcv prints ETAs. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return d ? `${d} day${d > 1 ? 's' : ''}, ${hms}` : hms;
}

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Prefix of every line, e.g. "eval" or "coco_eval evaluate". */
  label?: string;
  /** Where to draw (default process.stderr, so stdout keeps only results). */
  stream?: ProgressStream;
  /** Non-TTY: seconds between plain lines (default 10). */
  intervalS?: number;
  /** Unit in the rate, e.g. "img" (default "task" as mmcv). */
  unit?: string;
  /** Draw nothing (a tool's --quiet). */
  quiet?: boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Counts completed units of `total` and draws rate/ETA. `total` 0 or unknown (NaN) shows counts only. */
export class ProgressBar {
  done = 0;
  private readonly start: number;
  private lastLine = -Infinity;
  private lastDecile = 0;
  private drawn = false;
  private readonly stream: ProgressStream;
  private readonly now: () => number;

  constructor(
    /** Units in all; settable when learned late (NaN until then). */
    public total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** The status text after `done` units: "37/100 (37%), 4.2 img/s, elapsed 0:00:09, ETA 0:00:15". */
  status(): string {
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const unit = this.opts.unit ?? 'task';
    const known = Number.isFinite(this.total) && this.total > 0;
    const pct = known ? ` (${Math.floor((100 * this.done) / this.total)}%)` : '';
    const eta = known && rate > 0 ? `, ETA ${formatDuration((this.total - this.done) / rate)}` : '';
    const rateText = rate >= 1 || rate === 0 ? rate.toFixed(1) : `${(1 / rate).toFixed(2)} s/${unit}, ${rate.toFixed(3)}`;
    return `${this.done}${known ? `/${this.total}` : ''}${pct}, ${rateText} ${unit}/s, elapsed ${formatDuration(elapsed)}${eta}`;
  }

  /** Adds `n` completed units and redraws (TTY) or prints a line when one is due (non-TTY). */
  tick(n = 1): void {
    this.done += n;
    if (this.opts.quiet) return;
    const prefix = this.opts.label ? `${this.opts.label}: ` : '';
    if (this.stream.isTTY) {
      const width = 30;
      const known = Number.isFinite(this.total) && this.total > 0;
      const filled = known ? Math.min(width, Math.round((width * this.done) / this.total)) : 0;
      const bar = known ? `[${'>'.repeat(filled)}${' '.repeat(width - filled)}] ` : '';
      this.stream.write(`\r\x1b[2K${prefix}${bar}${this.status()}`);
      this.drawn = true;
      return;
    }
    const t = this.now();
    const decile = Number.isFinite(this.total) && this.total > 0 ? Math.floor((10 * this.done) / this.total) : 0;
    const due = t - this.lastLine >= (this.opts.intervalS ?? 10) * 1000 || decile > this.lastDecile;
    if (!due || this.done >= this.total) return; // the final line comes from finish()
    this.lastLine = t;
    this.lastDecile = decile;
    this.stream.write(`${prefix}${this.status()}\n`);
  }

  /** Prints `line` to `out` (default stdout) without tearing the bar: clears it first, redraws after (TTY). */
  log(line: string, out: ProgressStream = process.stdout): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\r\x1b[2K');
    out.write(`${line}\n`);
    if (this.drawn && this.stream.isTTY && !this.opts.quiet) {
      this.done -= 1;
      this.tick(1); // redraw at the same count
    }
  }

  /** Ends the bar: clears the TTY line, then one summary line "<label>: 100/100 (100%), ... " unless quiet. */
  finish(): void {
    if (this.opts.quiet) return;
    const prefix = this.opts.label ? `${this.opts.label}: ` : '';
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(`${prefix}${this.status()}\n`);
  }
}
