/**
 * Where the CLI writes: results on stdout (the summary, `--json`, a graph), everything for the person
 * watching on stderr (logs, progress). While a progress bar is drawn, stderr text goes through the bar
 * (cli-progress's `MultiBar.log`) so a log line never tears it.
 */
import { Writable } from 'node:stream';
import type { MultiBar } from 'cli-progress';

export class Terminal {
  /** stderr is a terminal: a progress bar can be drawn and logs default to the human format. */
  readonly stderrIsTty = process.stderr.isTTY === true;
  #bar: MultiBar | undefined;

  /** The stream the logger writes to (stderr, or through the bar while one is shown). */
  readonly logStream: Writable & { isTTY: boolean };

  constructor() {
    const stream = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        this.err(String(chunk));
        done();
      },
    }) as Writable & { isTTY: boolean };
    // pino's logger factory picks the human format and colours when its destination is a terminal.
    stream.isTTY = this.stderrIsTty;
    this.logStream = stream;
  }

  /** Writes a result to stdout. */
  out(text: string): void {
    process.stdout.write(text);
  }

  /** Writes to stderr, above the progress bar if one is drawn. */
  err(text: string): void {
    if (this.#bar) this.#bar.log(text.endsWith('\n') ? text : `${text}\n`);
    else process.stderr.write(text);
  }

  /** Routes stderr through `bar` until `detachBar`. */
  attachBar(bar: MultiBar): void {
    this.#bar = bar;
  }

  detachBar(): void {
    this.#bar = undefined;
  }
}
