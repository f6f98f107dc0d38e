/**
 * Ctrl-C. The first SIGINT aborts the operation through its AbortSignal (the engine stops starting
 * tasks, lets running ones finish and commits them; synth stops between folders); the second exits at
 * once with 130.
 */
import { EXIT } from './exit-codes.js';

export interface InterruptTrap {
  readonly signal: AbortSignal;
  /** True once Ctrl-C was pressed. */
  readonly interrupted: boolean;
  /** Stops listening (the default SIGINT behaviour returns). */
  dispose(): void;
}

/** @param onFirst called on the first Ctrl-C (to say that the run is stopping) */
export function trapInterrupt(onFirst: () => void): InterruptTrap {
  const controller = new AbortController();
  let presses = 0;
  const handler = (): void => {
    presses++;
    if (presses === 1) {
      controller.abort();
      onFirst();
    } else {
      process.stderr.write('\ninterrupted again: quitting at once (tasks still running are lost; their results were not stored)\n');
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    get interrupted() {
      return presses > 0;
    },
    dispose() {
      process.off('SIGINT', handler);
    },
  };
}
