/**
 * Bad configuration, end to end through the CLI: each mistake the issue lists exits 2 before anything
 * runs, with the key, what is wrong and the fix, and no stack trace. "Nothing ran" is checked on disk: no
 * cache directory and no output directory appear. The same project then builds once the config is right,
 * so the failures are the config's, not the tree's.
 */
import { existsSync } from 'node:fs';
import {
  createProject,
  describeResult,
  removeScratch,
  stackTraceLines,
  taskCount,
  type ConfigJson,
  type Project,
} from '../helpers/reliability-project.js';
import { SMALL_AXES } from '../../synth/index.js';

interface BadConfig {
  name: string;
  edit(config: ConfigJson): unknown;
  /** The config key the message must name. */
  key: string;
  /** What the message must say (the problem, a did-you-mean). */
  says: RegExp[];
}

const basic = (c: ConfigJson): Record<string, unknown> => c.collections.basic;

const BAD_CONFIGS: BadConfig[] = [
  {
    name: 'a wrong type at the top level ("jobs": "four")',
    edit: (c) => ({ ...c, jobs: 'four' }),
    key: 'jobs',
    says: [/expected number, found "four"/, /set jobs to a number/],
  },
  {
    name: 'a wrong type in an axis (bs as strings)',
    edit: (c) => void (basic(c).axes = { ...SMALL_AXES, bs: ['16', '64'] }),
    key: 'collections.basic.axes.bs.0',
    says: [/expected number, found "16"/],
  },
  {
    name: 'a wrong type for a collection (a string)',
    edit: (c) => void (c.collections.noisy = 'raw/noisy' as never),
    key: 'collections.noisy',
    says: [/must be an object/],
  },
  {
    name: 'an unknown key at the top level ("outdir")',
    edit: (c) => {
      const { outDir, ...rest } = c;
      return { ...rest, outdir: outDir };
    },
    key: 'outdir',
    says: [/unknown key "outdir"; did you mean "outDir"\?/, /known keys here: .*outDir/],
  },
  {
    name: 'an unknown key in a collection ("layuot")',
    edit: (c) => {
      const { layout, ...rest } = basic(c);
      c.collections.basic = { ...rest, layuot: layout };
    },
    key: 'collections.basic',
    says: [/unknown key "layuot"; did you mean "layout"\?/],
  },
  {
    name: 'a layout without {bs}',
    edit: (c) => void (basic(c).layout = 'different_knobs_subset_{data}/normal/ResNet18_w{width}/metrics'),
    key: 'collections.basic.layout',
    says: [/has no \{bs\} placeholder/, /write \{bs\} where the bs value appears/],
  },
  {
    name: 'axes that match no checkpoint folder',
    edit: (c) => void (basic(c).axes = { ...SMALL_AXES, bs: [999, 1000] }),
    key: 'collections.basic.axes',
    says: [/none of the 18 checkpoint folders .* is on the configured axes/, /fix collections\.basic\.axes/],
  },
  {
    name: 'a layout that matches no folder (the wrong method folder)',
    edit: (c) => void (basic(c).layout = 'different_knobs_subset_{data}/bs_{bs}/lr_decay/ResNet18_w{width}/metrics'),
    key: 'collections.basic.layout',
    says: [/no checkpoint folder under .* matches the layout/, /the method folder/],
  },
  {
    name: 'a missing raw folder',
    edit: (c) => void (basic(c).raw = 'raw/basci'),
    key: 'collections.basic.raw',
    says: [/the raw folder .*raw\/basci does not exist/, /mdpipe synth --out raw\/basci/],
  },
];

let project: Project;
beforeAll(async () => {
  project = await createProject({ name: 'config' });
});
afterAll(() => removeScratch());

describe('bad configuration: exit 2 with the key and the fix, nothing run', () => {
  test.each(BAD_CONFIGS.map((b) => [b.name, b] as const))('%s', async (_name, bad) => {
    project.writeConfig(bad.edit);
    const r = await project.run(['run', '--json']);
    const why = describeResult(r);
    expect({ code: r.code, why }).toEqual({ code: 2, why });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain(bad.key);
    expect(r.stderr).toContain(project.configPath);
    expect(r.stderr).toMatch(/fix:|did you mean|known keys/);
    for (const pattern of bad.says) expect(r.stderr).toMatch(pattern);
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(existsSync(project.cacheDir)).toBe(false);
    expect(existsSync(project.outDir)).toBe(false);
  });

  test('the same project builds once the configuration is right (the failures above were the config)', async () => {
    project.writeConfig();
    const r = await project.run(['run', '--json']);
    expect({ code: r.code, why: describeResult(r) }).toEqual({ code: 0, why: describeResult(r) });
    expect(r.summary!.executed).toBe(taskCount(SMALL_AXES));
  });
});
