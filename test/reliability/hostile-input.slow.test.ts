/**
 * Hostile raw input: pickles that would run a command if unpickled by Python (posix.system, builtins.eval,
 * subprocess.Popen, os.system hidden in valid data, another global), and hostile sizes (deep nesting, a
 * file expanding to 2^60 elements, a length claim of 4 GiB, a 3 GiB file). Each is refused with a clear
 * error naming the file, runs nothing, stays within bounded memory, and is handled like any bad input
 * (the scenario of `test/helpers/reliability-bad-input.ts`, through the real CLI).
 */
import { BAD_INPUTS } from '../helpers/reliability-inputs.js';
import { describeBadInputs } from '../helpers/reliability-bad-input.js';

describeBadInputs(
  'hostile raw input: refused, nothing run, memory bounded, nothing cached',
  BAD_INPUTS.filter((bad) => bad.hostile),
);
