/**
 * Bad raw input that real users produce: broken, empty, misnamed, mis-shaped or unreadable files, bad
 * numbers, lost seeds, symbolic link loops. Each case runs the scenario of
 * `test/helpers/reliability-bad-input.ts` (cold build, retry, fix) through the real CLI.
 */
import { symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BAD_INPUTS } from '../helpers/reliability-inputs.js';
import { describeBadInputs } from '../helpers/reliability-bad-input.js';
import { cleanBuildOutputs, createProject, describeResult, removeScratch, snapshotDiff, taskCount } from '../helpers/reliability-project.js';
import { SMALL_AXES } from '../../synth/index.js';

describeBadInputs(
  'bad raw input: the error names the file, independent work completes, nothing bad is cached',
  BAD_INPUTS.filter((bad) => !bad.hostile),
);

describe('symbolic link loops the layout never reaches', () => {
  afterAll(() => removeScratch());

  test('are ignored without hanging: the build equals a clean build of the same tree', async () => {
    const reference = await cleanBuildOutputs();
    const project = await createProject({ name: 'loops' });
    const folder = project.folder('basic', { bs: 16, width: 2, data: '10' });
    // A loop at the top of the raw tree, one inside a method folder, one beside a metrics folder.
    symlinkSync('.', join(project.dir, 'raw', 'basic', 'loop'));
    symlinkSync('..', join(dirname(dirname(folder)), 'loop'));
    symlinkSync('metrics', join(dirname(folder), 'metrics-loop'));
    const r = await project.run(['run', '--json']);
    expect({ code: r.code, why: describeResult(r) }).toEqual({ code: 0, why: describeResult(r) });
    expect(r.summary!.executed).toBe(taskCount(SMALL_AXES));
    expect(snapshotDiff(project.outputs(), reference)).toEqual([]);
  });
});
