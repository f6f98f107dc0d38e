/**
 * Steps 2 and 3 of the build (see `index.ts`), as mechanics: a ready queue resolved synchronously (a
 * no-op build creates no promise per task), and a pool of `jobs` slots for work that needs I/O or user
 * code. What resolving or a job means is the host's (the planner's and the executor's).
 */
import { PipelineError } from '../errors.js';
import { NOT_STARTED_AFTER_FAILURE } from '../events.js';
import type { Job } from './types.js';

/**
 * The run loop hands the event loop a turn when it has run this long without one: enough for an abort
 * (Ctrl-C) to stop new tasks within a few tasks' time, rare enough to cost nothing measurable.
 */
const YIELD_EVERY_MS = 25;

/**
 * Light jobs (executions offloaded to another thread, `offload.ts`) at once. They take no slot of the pool:
 * each costs this thread only its reading and its commit, and with two slots the offload thread would get
 * two tasks at a time and the build's thread would wait for it.
 */
const LIGHT_SLOTS = 64;

export interface SchedulerHost {
  /** Decide a task whose dependencies are all done (may queue a job, or finish it). */
  resolve(i: number): void;
  /** Run one job (rejections are fatal to the build). */
  start(job: Job): Promise<void>;
  /** Whether a job mostly waits on another thread: it runs outside the pool's slots, up to `LIGHT_SLOTS`. */
  isLight(job: Job): boolean;
  /** A queued task that will not start: the run is stopping. */
  skip(i: number, reason: string): void;
  /** An error found outside the jobs (a failed commit) that must stop the build. */
  backgroundError(): unknown;
}

export class Scheduler {
  readonly #host: SchedulerHost;
  readonly #slots: number;
  readonly #controller: AbortController;
  readonly #ready: number[] = [];
  #readyHead = 0;
  readonly #jobs: Job[] = [];
  #jobsHead = 0;
  /** Jobs that go first: executing a task whose inputs were just read (so the bytes are not held long). */
  readonly #urgent: Job[] = [];
  #active = 0;
  #light = 0;
  #stopping: 'interrupted' | 'failed' | undefined;
  #fatal: unknown;
  #wakeResolve: (() => void) | undefined;
  #woken = false;

  constructor(host: SchedulerHost, slots: number, controller: AbortController) {
    this.#host = host;
    this.#slots = slots;
    this.#controller = controller;
  }

  get interrupted(): boolean {
    return this.#stopping === 'interrupted';
  }

  /** The first error that stopped the build, if any. */
  get fatal(): unknown {
    return this.#fatal;
  }

  ready(i: number): void {
    this.#ready.push(i);
  }

  queue(job: Job, urgent = false): void {
    (urgent ? this.#urgent : this.#jobs).push(job);
  }

  stop(why: 'interrupted' | 'failed'): void {
    this.#stopping ??= why;
    if (why === 'interrupted') this.#controller.abort(new PipelineError('interrupted', 'usage', 'the run was interrupted'));
    this.#wake();
  }

  /** Runs until every ready task is resolved and every job done (or the build failed). */
  async run(): Promise<void> {
    let yieldedAt = performance.now();
    for (;;) {
      // Tasks whose run functions are synchronous chain through microtasks only, so without this the
      // event loop (and with it SIGINT, timers, progress) would not turn until the whole build is done.
      if (performance.now() - yieldedAt >= YIELD_EVERY_MS) {
        await new Promise(setImmediate);
        yieldedAt = performance.now();
      }
      while (this.#readyHead < this.#ready.length) this.#host.resolve(this.#ready[this.#readyHead++]);
      this.#pump();
      if (this.#readyHead < this.#ready.length) continue; // the pump skipped tasks, readying their dependents
      if (this.#fatal !== undefined && this.#active + this.#light === 0) return;
      if (this.#active + this.#light === 0 && this.#next(false) === undefined) return;
      await this.#sleep();
    }
  }

  #wake(): void {
    this.#woken = true;
    this.#wakeResolve?.();
  }

  async #sleep(): Promise<void> {
    if (!this.#woken) await new Promise<void>((resolve) => (this.#wakeResolve = resolve));
    this.#wakeResolve = undefined;
    this.#woken = false;
  }

  #next(take: boolean): Job | undefined {
    if (this.#urgent.length > 0) return take ? this.#urgent.shift() : this.#urgent[0];
    if (this.#jobsHead < this.#jobs.length) return take ? this.#jobs[this.#jobsHead++] : this.#jobs[this.#jobsHead];
    return undefined;
  }

  #pump(): void {
    const background = this.#host.backgroundError();
    if (background !== undefined) this.#fatal ??= background;
    while (this.#fatal === undefined) {
      const next = this.#next(false);
      if (!next) return;
      // In order: a job waits for a slot of its kind, and those after it wait with it. Running a light job
      // in a free slot of the pool instead, when the light slots are full, measured slower, both always
      // (the light slots are mostly full of results this thread has not taken in yet, since it turns its
      // event loop only between jobs; it parsed ~1/3 of a first build itself while the other thread idled)
      // and only for the other thread's first 256 tasks (its slow start): 2.40 s against 2.28 s.
      const light = !this.#stopping && this.#host.isLight(next);
      if (light ? this.#light >= LIGHT_SLOTS : this.#active >= this.#slots) return;
      const job = this.#next(true)!;
      if (this.#stopping) {
        this.#host.skip(job.task, this.#stopping === 'interrupted' ? 'interrupted' : NOT_STARTED_AFTER_FAILURE);
        continue;
      }
      job.light = light;
      if (light) this.#light++;
      else this.#active++;
      const done = (): void => {
        if (light) this.#light--;
        else this.#active--;
        this.#wake();
      };
      this.#host.start(job).then(done, (error: unknown) => {
        this.#fatal ??= error;
        done();
      });
    }
  }
}
