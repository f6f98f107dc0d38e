/**
 * Ctrl-C. The first SIGINT aborts the operation through its AbortSignal (the engine stops starting
 * tasks, lets running ones finish and commits them; synth stops between folders); the second exits at
 * once with 130. A second SIGINT within 200 ms of the first is the same interrupt delivered twice
 * (`timeout -s INT`, or a shell, signals the process and its group: two signals a millisecond apart),
 * not a person pressing Ctrl-C again.
 */
import os from 'node:os';
import { EXIT } from './exit-codes.js';

export interface InterruptTrap {
  readonly signal: AbortSignal;
  /** True once Ctrl-C was pressed (or another trapped signal came). */
  readonly interrupted: boolean;
  /** The exit code of the first signal: 130 for SIGINT, 143 for SIGTERM (128 + its number, as a shell reports it). */
  readonly exitCode: number;
  /** Stops listening (the default SIGINT behaviour returns). */
  dispose(): void;
}

/**
 * Signals closer together than this count as one interrupt. MDPIPE_SAME_INTERRUPT_MS overrides it: the
 * fault tests press twice within a few milliseconds (a run that is stopping ends in ~50 ms) and set 0.
 */
const fromEnv = Number(process.env.MDPIPE_SAME_INTERRUPT_MS);
export const SAME_INTERRUPT_MS = process.env.MDPIPE_SAME_INTERRUPT_MS !== undefined && fromEnv >= 0 ? fromEnv : 200;

/**
 * @param onFirst called on the first Ctrl-C (to say that the run is stopping)
 * @param signals the signals treated as Ctrl-C (`watch` adds SIGTERM, which service managers send to stop it)
 */
export function trapInterrupt(onFirst: (signal: NodeJS.Signals) => void, signals: readonly NodeJS.Signals[] = ['SIGINT']): InterruptTrap {
  const controller = new AbortController();
  let presses = 0;
  let firstAt = 0;
  let first: NodeJS.Signals = 'SIGINT';
  const codeOf = (signal: NodeJS.Signals): number => (signal === 'SIGINT' ? EXIT.interrupted : 128 + os.constants.signals[signal]);
  const handler = (signal: NodeJS.Signals): void => {
    if (presses === 1 && performance.now() - firstAt < SAME_INTERRUPT_MS) return;
    presses++;
    if (presses === 1) {
      firstAt = performance.now();
      first = signal;
      controller.abort();
      onFirst(signal);
    } else {
      process.stderr.write('\ninterrupted again: quitting at once (tasks still running are lost; their results were not stored)\n');
      process.exit(codeOf(signal));
    }
  };
  for (const signal of signals) process.on(signal, handler);
  return {
    signal: controller.signal,
    get interrupted() {
      return presses > 0;
    },
    get exitCode() {
      return codeOf(first);
    },
    dispose() {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}
