/**
 * Progress of a long operation (a run's tasks, synth's folders), in one of three forms:
 * - a cli-progress bar on stderr, when stderr is a terminal and neither `--json`, `--quiet` nor
 *   `--no-progress` was given;
 * - otherwise a log line every 2 s (`progress: 1,234 of 3,388 tasks done ...`), so a long run in CI or
 *   under `tee` still shows it is alive (`MDPIPE_PROGRESS_INTERVAL_MS` changes the period; tests use it);
 * - nothing, with `--quiet`.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import { count } from './format.js';
import type { Terminal } from './terminal.js';

export interface Progress {
  /** Starts showing progress toward `total` units (`tasks`, `folders`). */
  start(total: number): void;
  /**
   * `done` units so far; `detail` is shown beside the count (`12 executed · 3 cached`). A function is
   * called only when the line is drawn (a run reports thousands of updates and draws a few).
   */
  update(done: number, detail?: string | (() => string)): void;
  /** Removes the bar (flushing log lines queued above it) or stops the periodic lines. */
  stop(): void;
}

export type ProgressMode = 'bar' | 'lines' | 'none';

/** Bar on a terminal unless quiet or machine output; periodic lines otherwise; none when quiet. */
export function chooseProgressMode(terminal: Terminal, options: { quiet?: boolean; json?: boolean; progress?: boolean }): ProgressMode {
  if (options.quiet) return 'none';
  if (terminal.stderrIsTty && !options.json && options.progress !== false) return 'bar';
  return 'lines';
}

const DEFAULT_INTERVAL_MS = 2000;

function intervalMs(): number {
  const fromEnv = Number(process.env.MDPIPE_PROGRESS_INTERVAL_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_INTERVAL_MS;
}

/**
 * @param unit what is counted, plural (`tasks`)
 * @param line how a periodic line is written (the logger's info, usually)
 */
export function createProgress(mode: ProgressMode, terminal: Terminal, unit: string, line: (text: string) => void): Progress {
  if (mode === 'bar') return new BarProgress(terminal, unit);
  if (mode === 'lines') return new LineProgress(unit, line);
  return { start() {}, update() {}, stop() {} };
}

const text = (detail: string | (() => string)): string => (typeof detail === 'function' ? detail() : detail);

/**
 * Redraws are driven by `update` (at most every 100 ms) as well as by cli-progress's timer: a run of
 * synchronous tasks can keep the event loop busy for seconds, and a timer alone would freeze the bar.
 * cli-progress is loaded when a bar is first drawn (synchronously, through its CommonJS entry), so the
 * commands that draw none (`--json`, `--quiet`, pipes) do not load it.
 */
class BarProgress implements Progress {
  #multi: cliProgressModule.MultiBar | undefined;
  #bar: cliProgressModule.SingleBar | undefined;
  #drawnAt = 0;
  #total = 0;

  constructor(
    private readonly terminal: Terminal,
    private readonly unit: string,
  ) {}

  start(total: number): void {
    const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
    this.#total = total;
    this.#multi = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        // `{detail}` carries its own ` | ` separator: synth has none, and an empty `|  |` field read as broken.
        format: ` {bar} {value}/{total} ${this.unit}{detail} | {duration_formatted}`,
        barsize: 28,
        hideCursor: true,
        clearOnComplete: true,
        gracefulExit: false,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar = this.#multi.create(total, 0, { detail: '' });
    this.terminal.attachBar(this.#multi);
  }

  update(done: number, detail: string | (() => string) = ''): void {
    if (!this.#multi || !this.#bar) return;
    const now = performance.now();
    if (now - this.#drawnAt >= 100 || done >= this.#total) {
      this.#drawnAt = now;
      const d = text(detail);
      this.#bar.update(done, { detail: d === '' ? '' : ` | ${d}` });
      // Draws the bar and writes the log lines queued above it.
      this.#multi.update();
    }
  }

  stop(): void {
    if (!this.#multi) return;
    // update() writes the log lines queued above the bar; stop() alone would drop them.
    this.#multi.update();
    this.#multi.stop();
    this.terminal.detachBar();
    this.#multi = undefined;
    this.#bar = undefined;
  }
}

/**
 * A line every interval, written from `update` when the interval has passed (so it works while
 * synchronous tasks keep the event loop busy) and from a timer (so a long single task still shows life).
 */
class LineProgress implements Progress {
  #timer: NodeJS.Timeout | undefined;
  #done = 0;
  #total = 0;
  #detail: string | (() => string) = '';
  #saidAt = 0;
  readonly #interval = intervalMs();

  constructor(
    private readonly unit: string,
    private readonly line: (text: string) => void,
  ) {}

  start(total: number): void {
    this.#total = total;
    this.#saidAt = performance.now();
    this.#timer = setInterval(() => this.#maybeSay(), this.#interval);
    this.#timer.unref();
  }

  update(done: number, detail: string | (() => string) = ''): void {
    this.#done = done;
    this.#detail = detail;
    this.#maybeSay();
  }

  #maybeSay(): void {
    const now = performance.now();
    if (this.#timer === undefined || this.#done >= this.#total || now - this.#saidAt < this.#interval) return;
    this.#saidAt = now;
    const detail = text(this.#detail);
    this.line(`progress: ${count(this.#done)} of ${count(this.#total)} ${this.unit} done${detail ? ` (${detail})` : ''}`);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
