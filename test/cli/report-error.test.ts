/** Which errors are the user's (exit 2), which are the run's (exit 1), and which are bugs: no stack unless asked. */
import { ConfigError } from '../../config/errors.js';
import { FormatError } from '../../formats/index.js';
import { LockedError, PipelineError, StoreWriteError } from '../../pipeline/index.js';
import { reportError } from '../../cli/report-error.js';
import { UsageError } from '../../cli/usage-error.js';
import { SynthError } from '../../synth/errors.js';

async function report(error: unknown, debug = false): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await reportError(error, { debug, write: (t) => void (text += t) });
  return { code, text };
}

describe('reportError', () => {
  test.each([
    ['a configuration error', new ConfigError('collections.basic.raw', 'the raw folder /x does not exist', 'point it at the folder')],
    ['a usage error', new UsageError('--config-out x.json exists and is not a configuration', 'delete it')],
    ['a synth error', new SynthError('no such file', 'give the path of a grid', 'grid.npy')],
    ['a file given on the command line that is not what it should be', new FormatError('grid.npy', 'bad-magic', 'not an npy file')],
    ['an engine configuration error', new PipelineError('cycle', 'config', 'the task graph has a cycle')],
  ])('%s: its message, exit 2, no stack', async (_, error) => {
    const { code, text } = await report(error);
    expect(code).toBe(2);
    expect(text).toBe(`error: ${error.message}\n`);
  });

  test('a locked cache names the holder and exits 1', async () => {
    const error = new LockedError('/p/.mdpipe', { pid: 42, host: 'h', command: 'mdpipe run', startedAt: 'then' });
    const { code, text } = await report(error);
    expect(code).toBe(1);
    expect(text).toContain('process 42 on h (mdpipe run)');
  });

  test('a failing cache store and a file-system error exit 1 with their message', async () => {
    expect((await report(new StoreWriteError('records', 'sqlite:/p/cache.sqlite'))).code).toBe(1);
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/p/out/basic/dataframe.csv'"), { code: 'EACCES', syscall: 'open' });
    const { code, text } = await report(eacces);
    expect(code).toBe(1);
    expect(text).toContain('/p/out/basic/dataframe.csv');
    expect(text).not.toContain('internal error');
  });

  test('anything else is an internal error: one line asking for a report; the stack only with --debug', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const plain = await report(bug);
    expect(plain.code).toBe(1);
    expect(plain.text).toBe("internal error: Cannot read properties of undefined (reading 'x') (please report this, with the output of the same command run with --debug)\n");
    const debug = await report(bug, true);
    expect(debug.text).toContain(bug.stack!.split('\n')[1]);
  });
});
