/**
 * Keys and the field-by-field diff behind `explain`, `status` and dry-run reasons.
 */
import { RECORD_SCHEMA, type TaskRecord } from '../../cache/record.js';
import { canonicalJson, type Json } from '../../util/json.js';
import { describeChange, summarizeChanges } from '../../cli/change-text.js';
import { diffFingerprint, makeFingerprint } from '../../pipeline/fingerprint.js';

const D1 = '1'.repeat(64);
const D2 = '2'.repeat(64);
const D3 = '3'.repeat(64);

const base = () =>
  makeFingerprint(
    { kind: 'parse', codeVersion: '1', params: { scale: 1, axes: { bs: [16, 32] } } },
    [{ name: 'a.txt', path: '/raw/p0/a.txt', digest: D1 }, { name: 'b.txt', path: '/raw/p0/b.txt', digest: 'absent' }],
    ['up:x'],
    [D2],
  );

function recordOf(fingerprint: ReturnType<typeof base>): TaskRecord {
  return {
    ...fingerprint,
    toolVersion: 't',
    id: 'parse:c/p0',
    output: { digest: D3, size: 1, files: {} },
    notes: [],
    durationMs: 1,
    finishedAt: '',
    usedAt: 0,
  };
}

describe('keys', () => {
  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}');
  });

  it('the key ignores object key order and file paths, and includes everything else', () => {
    const key = base().key;
    const reordered = makeFingerprint(
      { kind: 'parse', codeVersion: '1', params: { axes: { bs: [16, 32] }, scale: 1 } },
      [{ name: 'a.txt', path: '/moved/p0/a.txt', digest: D1 }, { name: 'b.txt', path: '/moved/p0/b.txt', digest: 'absent' }],
      ['up:x'],
      [D2],
    );
    expect(reordered.key).toBe(key);
    const variants = [
      makeFingerprint({ kind: 'grid', codeVersion: '1', params: { scale: 1, axes: { bs: [16, 32] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: 'absent' }], ['up:x'], [D2]),
      makeFingerprint({ kind: 'parse', codeVersion: '2', params: { scale: 1, axes: { bs: [16, 32] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: 'absent' }], ['up:x'], [D2]),
      makeFingerprint({ kind: 'parse', codeVersion: '1', params: { scale: 1, axes: { bs: [32, 16] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: 'absent' }], ['up:x'], [D2]),
      makeFingerprint({ kind: 'parse', codeVersion: '1', params: { scale: 1, axes: { bs: [16, 32] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: D3 }], ['up:x'], [D2]),
      makeFingerprint({ kind: 'parse', codeVersion: '1', params: { scale: 1, axes: { bs: [16, 32] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: 'absent' }], ['up:x'], [D3]),
      makeFingerprint({ kind: 'parse', codeVersion: '1', params: { scale: 1, axes: { bs: [16, 32] } } }, [{ name: 'a.txt', path: '/p', digest: D1 }, { name: 'b.txt', path: '/q', digest: 'absent' }], ['up:y'], [D2]),
    ];
    expect(new Set([key, ...variants.map((v) => v.key)]).size).toBe(variants.length + 1);
    expect(base().schema).toBe(RECORD_SCHEMA);
  });
});

describe('diffFingerprint', () => {
  it('finds nothing between a record and the state that produced it', () => {
    expect(diffFingerprint(recordOf(base()), base())).toEqual([]);
    expect(summarizeChanges([])).toBe('up to date');
  });

  it('names each changed field: code version, nested params, files with path and digests, deps', () => {
    const record = recordOf(base());
    const now = makeFingerprint(
      { kind: 'parse', codeVersion: '2', params: { scale: 2, axes: { bs: [16, 32, 64] } } },
      [{ name: 'a.txt', path: '/raw/p0/a.txt', digest: D3 }, { name: 'c.txt', path: '/raw/p0/c.txt', digest: D1 }],
      ['up:x', 'up:z'],
      [D1, D2],
    );
    const changes = diffFingerprint(record, now);
    expect(changes).toEqual([
      { field: 'codeVersion', old: '1', new: '2' },
      { field: 'params', path: 'params.axes.bs[2]', old: undefined, new: 64 },
      { field: 'params', path: 'params.scale', old: 1, new: 2 },
      { field: 'file', name: 'a.txt', path: '/raw/p0/a.txt', old: D1, new: D3 },
      { field: 'file', name: 'b.txt', path: '/raw/p0/b.txt', old: 'absent', new: undefined },
      { field: 'file', name: 'c.txt', path: '/raw/p0/c.txt', old: undefined, new: D1 },
      { field: 'dep', id: 'up:x', old: D2, new: D1 },
      { field: 'dep', id: 'up:z', old: undefined, new: D2 },
    ]);
    expect(changes.map((c) => describeChange(c))).toEqual([
      'code version changed (1 → 2)',
      'parameter axes, bs, item 3 added (64)',
      'parameter scale changed (1 → 2)',
      `input a.txt changed: /raw/p0/a.txt (${D1.slice(0, 12)} → ${D3.slice(0, 12)})`,
      'input b.txt no longer declared (/raw/p0/b.txt)',
      'new input c.txt (/raw/p0/c.txt)',
      `upstream up:x output changed (${D2.slice(0, 12)} → ${D1.slice(0, 12)})`,
      'new upstream up:z',
    ]);
    expect(describeChange(changes[3], true)).toBe(`input a.txt changed: /raw/p0/a.txt (${D1} → ${D3})`);
    expect(summarizeChanges(changes)).toBe('code version changed (1 → 2) (+7 more)');
  });

  it('words parameter paths for people, not as the engine stores them (issue 14 point 7)', () => {
    const word = (path: string, old: Json | undefined, now: Json | undefined) => describeChange({ field: 'params', path, old, new: now });
    expect(word('params.outsideAxes[0]', undefined, 'bs64-w32-d10')).toBe('parameter outside axes, item 1 added ("bs64-w32-d10")');
    expect(word('params.outsideAxes[1]', 'bs8-w4-d2', undefined)).toBe('parameter outside axes, item 2 removed (was "bs8-w4-d2")');
    expect(word('params', 1, 2)).toBe('parameters changed (1 → 2)');
  });

  it('reports an upstream whose output is not known yet as unknown', () => {
    const changes = diffFingerprint(recordOf(base()), base(), new Set(['up:x']));
    expect(changes).toEqual([{ field: 'dep', id: 'up:x', old: D2, new: 'unknown' }]);
    expect(describeChange(changes[0])).toBe('upstream up:x would re-run (this task re-runs if its output changes)');
  });
});
