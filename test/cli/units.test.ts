/** Option values people type: sizes, ages, counts. */
import { InvalidArgumentError } from 'commander';
import { age, positiveInt, size, wholeNumber } from '../../cli/units.js';
import { bytes, compactJson, duration, sortedByNumbers } from '../../cli/format.js';
import { groupOf, renderTaskTable } from '../../cli/task-table.js';

describe('option values', () => {
  test('sizes: decimal units are powers of 1000, *iB of 1024', () => {
    expect(size('500MB')).toBe(500e6);
    expect(size('1.5 GB')).toBe(1.5e9);
    expect(size('200kb')).toBe(200e3);
    expect(size('2GiB')).toBe(2 * 2 ** 30);
    expect(size('1000B')).toBe(1000);
    expect(() => size('10')).toThrow('a size needs a unit: 10MB, 10GB or 10B (bytes).');
    for (const bad of ['', 'MB', '5XB', '-1MB', '1e3']) expect(() => size(bad)).toThrow(InvalidArgumentError);
  });

  test('ages: s, m, h, d, w', () => {
    expect(age('30d')).toBe(30 * 86_400_000);
    expect(age('12h')).toBe(12 * 3_600_000);
    expect(age('90m')).toBe(90 * 60_000);
    expect(age('2w')).toBe(14 * 86_400_000);
    for (const bad of ['30', 'd', '3y', '-1d']) expect(() => age(bad)).toThrow(InvalidArgumentError);
  });

  test('counts', () => {
    expect(positiveInt('4')).toBe(4);
    for (const bad of ['0', '-2', '1.5', 'four', '']) expect(() => positiveInt(bad)).toThrow(InvalidArgumentError);
    expect(wholeNumber('0')).toBe(0);
    expect(() => wholeNumber('-1')).toThrow(InvalidArgumentError);
  });
});

describe('formatting', () => {
  test('bytes and durations', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(18_743_790)).toBe('18.7 MB');
    expect(bytes(1_500)).toBe('1.50 kB');
    expect(duration(850)).toBe('850 ms');
    expect(duration(7_140)).toBe('7.1 s');
    expect(duration(125_000)).toBe('2 min 5 s');
  });

  test('compact JSON keeps arrays of plain values on one line', () => {
    expect(compactJson({ axes: { bs: [16, 64], data: ['10', '05'] } })).toBe('{\n  "axes": {\n    "bs": [16, 64],\n    "data": ["10", "05"]\n  }\n}');
  });
});

describe('task tables', () => {
  test('partitions fold into their group; only non-fresh members are listed, up to 10', () => {
    expect(groupOf('parse:basic/bs16-w2-d10')).toBe('parse:basic/*');
    expect(groupOf('grid:basic')).toBe('grid:basic');
    const rows = [
      ...Array.from({ length: 1690 }, (_, i) => ({ id: `parse:basic/p${i}`, state: i < 12 ? 'stale' : 'fresh', reason: `r${i}` })),
      { id: 'grid:basic', state: 'stale', reason: 'upstream changed' },
    ];
    const text = renderTaskTable(rows, ['fresh', 'stale'], { moreHint: '--all lists every task' });
    expect(text).toContain('parse:basic/*  1,678 fresh · 12 stale');
    expect(text.match(/^ {2}stale {3}parse:basic\/p\d+ {2}r\d+$/gm)).toHaveLength(10);
    expect(text).toContain('... and 2 more (--all lists every task)');
    expect(text).toMatch(/^grid:basic +stale {2}upstream changed$/m);
    const all = renderTaskTable(rows, ['fresh', 'stale'], { all: true, moreHint: '' });
    expect(all.split('\n').filter((l) => l.startsWith('  '))).toHaveLength(1690);
  });
});

describe('names with numbers', () => {
  test('digit runs sort as numbers (equal numbers: the shorter spelling first), the rest as text; items come back whole', () => {
    const names = ['bs1024-w2-d10', 'bs16-w128-d01', 'bs16-w2-d10', 'bs128-w2-d01', 'bs16-w2-d01', 'bs16-w16-d05', 'grid', 'bs016-w2-d01'];
    expect(sortedByNumbers(names, String)).toEqual(['bs16-w2-d01', 'bs16-w2-d10', 'bs16-w16-d05', 'bs16-w128-d01', 'bs016-w2-d01', 'bs128-w2-d01', 'bs1024-w2-d10', 'grid']);
    const rows = names.map((id, k) => ({ id, k }));
    expect(sortedByNumbers(rows, (r) => r.id).map((r) => r.k)).toEqual([4, 2, 5, 1, 7, 3, 0, 6]);
    expect(names[0]).toBe('bs1024-w2-d10'); // the input is not sorted in place
  });
});
