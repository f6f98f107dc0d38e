/**
 * Discovery's fixed-depth walker (pipeline/glob-walk.ts) gives what fast-glob gave for the same pattern,
 * on a tree with the cases that differ between walkers: dot names, files where folders are expected,
 * symbolic links, literal and extglob segments, and folders deeper than the pattern.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fg from 'fast-glob';
import { fixedDepthSegments, walkGlob } from '../../pipeline/glob-walk.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mdpipe-glob-'));
  const dirs = [
    'subset_10/bs_16/normal/w2/metrics',
    'subset_10/bs_16/normal/w8/metrics',
    'subset_10/bs_16/lr_decay/w2/metrics',
    'subset_09/bs_256/normal/w32/metrics/deeper/metrics',
    'subset_x/bs_16/normal/w2/metrics',
    '.hidden_10/bs_16/normal/w2/metrics',
    'subset_08/.bs_16/normal/w2/metrics',
    'subset_07/bs_16/normal/w4',
  ];
  for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'subset_07/bs_16/normal/w4/metrics'), 'a file, not a folder');
  writeFileSync(join(root, 'subset_10/bs_16/normal/w2/metrics/loss.pkl'), 'x');
  writeFileSync(join(root, 'subset_10/bs_17'), 'a file where a folder is expected');
  symlinkSync(join(root, 'subset_10/bs_16'), join(root, 'subset_10/bs_99'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PATTERNS = [
  'subset_+([0-9])/bs_+([0-9])/normal/w+([0-9])/metrics',
  'subset_*/bs_*/normal/w*/metrics',
  'subset_*/bs_*/*/w2/metrics',
  'subset_09/bs_256/normal/w32/metrics/*',
  'subset_{10,09}/bs_*/normal/*/metrics',
];

describe('walkGlob', () => {
  it.each(PATTERNS)('matches fast-glob for %s (folders)', (pattern) => {
    const expected = fg.sync(pattern, { cwd: root, onlyDirectories: true, dot: false, unique: true }).sort();
    const segments = fixedDepthSegments(pattern)!;
    expect(segments).toBeDefined();
    expect(walkGlob(segments, { cwd: root, onlyDirectories: true }).sort()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('matches fast-glob for files', () => {
    const pattern = 'subset_*/bs_*/normal/w*/metrics/*.pkl';
    const expected = fg.sync(pattern, { cwd: root, onlyFiles: true, dot: false }).sort();
    expect(walkGlob(fixedDepthSegments(pattern)!, { cwd: root, onlyDirectories: false }).sort()).toEqual(expected);
    expect(expected).toEqual(['subset_10/bs_16/normal/w2/metrics/loss.pkl', 'subset_10/bs_99/normal/w2/metrics/loss.pkl']);
  });

  it('leaves recursive patterns and groups spanning segments to fast-glob', () => {
    expect(fixedDepthSegments('**/metrics')).toBeUndefined();
    expect(fixedDepthSegments('subset_{10/bs_16,09}/x')).toBeUndefined();
    expect(fixedDepthSegments('/abs/*')).toBeUndefined();
    expect(fixedDepthSegments('a/*/b')).toEqual(['a', '*', 'b']);
  });

  it('returns nothing under a root that does not exist', () => {
    expect(walkGlob(['*', 'metrics'], { cwd: join(root, 'missing'), onlyDirectories: true })).toEqual([]);
  });
});
