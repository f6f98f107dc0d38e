import { deflateSync, zipSync } from 'fflate';
import { readNpz, writeNpz } from '../../formats/npz.js';
import { writeNpy } from '../../formats/npy.js';
import { writePickle } from '../../formats/pickle/writer.js';
import { NpArray, NpDtype } from '../../formats/values.js';
import { crc32, crc32Portable, readZipDirectory } from '../../formats/zip.js';
import { expectFormatError, formatErrorOf } from './support.js';

const F8 = new NpDtype('<f8');
const arrays = new Map<string, NpArray>([
  ['ts', new NpArray(F8, [5], Float64Array.of(0, 0.25, 0.5, 0.75, 1))],
  ['tr_err', new NpArray(F8, [5], Float64Array.of(0, 0, 0.028000000000005798, 0, 0))],
  ['tr_loss_min', new NpArray(F8, [], Float64Array.of(0.19545172990322113))],
  ['counts', new NpArray(new NpDtype('<i8'), [2, 2], BigInt64Array.of(1n, 2n, 3n, 4n))],
]);

interface Member {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  crc?: number;
  /** Write sizes and offset as 0xFFFFFFFF in the central directory, with a zip64 extra field. */
  zip64?: boolean;
}

/** A minimal zip writer for archives fflate would not make (duplicate names, zip64 fields, bad CRCs). */
function buildZip(members: Member[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const method = m.method ?? 0;
    const payload = method === 8 ? deflateSync(m.data) : m.data;
    const name = enc.encode(m.name);
    const crc = m.crc ?? crc32(m.data);
    const local = new Uint8Array(30 + name.length + payload.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, payload.length, true);
    lv.setUint32(22, m.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(payload, 30 + name.length);
    const extra = m.zip64 ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (m.zip64) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 1, true);
      ev.setUint16(2, 24, true);
      ev.setBigUint64(4, BigInt(m.data.length), true);
      ev.setBigUint64(12, BigInt(payload.length), true);
      ev.setBigUint64(20, BigInt(offset), true);
    }
    const central = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, m.zip64 ? 0xffffffff : payload.length, true);
    cv.setUint32(24, m.zip64 ? 0xffffffff : m.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, m.zip64 ? 0xffffffff : offset, true);
    central.set(name, 46);
    central.set(extra, 46 + name.length);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return new Uint8Array(Buffer.concat([...locals, ...centrals, eocd]));
}

describe('writeNpz / readNpz', () => {
  test.each([false, true])('round trip (compress: %s), from a Map and from a Record', (compress) => {
    const fromMap = writeNpz(arrays, { compress });
    expect(readNpz(fromMap, 'a.npz')).toEqual(arrays);
    const fromRecord = writeNpz(Object.fromEntries(arrays), { compress });
    expect(Buffer.compare(fromRecord, fromMap)).toBe(0);
    const methods = readZipDirectory(fromMap, 'a.npz').map((e) => e.method);
    expect(methods).toEqual(new Array(arrays.size).fill(compress ? 8 : 0));
    expect(readZipDirectory(fromMap, 'a.npz').map((e) => e.name)).toEqual([...arrays.keys()].map((k) => `${k}.npy`));
    // Asked for some members, the directory gives those (same entries) and no others.
    const all = readZipDirectory(fromMap, 'a.npz');
    const some = readZipDirectory(fromMap, 'a.npz', new Set(['tr_err.npy', 'nothing.npy']));
    expect(some).toEqual(all.filter((e) => e.name === 'tr_err.npy'));
  });

  test('output is deterministic (fixed timestamps): equal arrays give equal bytes', () => {
    const a = writeNpz(arrays, { compress: true });
    const b = writeNpz(new Map(arrays), { compress: true });
    expect(Buffer.compare(a, b)).toBe(0);
  });

  test('an empty archive reads as no arrays', () => {
    expect(readNpz(writeNpz({}), 'empty.npz').size).toBe(0);
  });

  test('object arrays are stored too (numpy then needs allow_pickle)', () => {
    const obj = new Map([['d', new NpArray(new NpDtype('|O'), [], [new Map([['a', 1]])])]]);
    expect(readNpz(writeNpz(obj), 'o.npz')).toEqual(obj);
  });

  test('a stored npz read from a view into a larger buffer (offset, as from a pool)', () => {
    const npz = writeNpz(arrays);
    const big = new Uint8Array(npz.length + 13);
    big.set(npz, 13);
    expect(readNpz(big.subarray(13), 'view.npz')).toEqual(arrays);
  });
});

describe('readNpz with only', () => {
  test('returns just the arrays asked for', () => {
    const got = readNpz(writeNpz(arrays), 'curve_test.npz', { only: ['tr_err'] });
    expect([...got.keys()]).toEqual(['tr_err']);
    expect(got.get('tr_err')).toEqual(arrays.get('tr_err'));
  });

  test.each([false, true])('members not asked for are neither inflated nor parsed (compress: %s)', (compress) => {
    // Corrupt every member except tr_err: a reader that touched them would fail.
    const members = [...arrays].map(([name, arr]) => ({
      name: `${name}.npy`,
      data: name === 'tr_err' ? writeNpy(arr) : new Uint8Array(200).fill(0xee),
      method: (compress ? 8 : 0) as 0 | 8,
      crc: name === 'tr_err' ? undefined : 0x12345678,
    }));
    const zip = buildZip(members);
    expect(readNpz(zip, 'c.npz', { only: ['tr_err'] }).get('tr_err')).toEqual(arrays.get('tr_err'));
    expectFormatError(() => readNpz(zip, 'c.npz'), 'corrupt');
  });

  test('a missing member names the file and the arrays found', () => {
    const e = expectFormatError(() => readNpz(writeNpz(arrays), 'curve_test.npz', { only: ['ts', 'te_err'] }), 'missing-member');
    expect(e.message).toMatch(/^curve_test\.npz: no array 'te_err' in the archive \(found: ts, tr_err, tr_loss_min, counts\); /);
  });
});

describe('damaged and foreign archives', () => {
  test('not a zip: empty, text, a pickle, an npy', () => {
    expectFormatError(() => readNpz(new Uint8Array(0), 'e.npz'), 'empty');
    expectFormatError(() => readNpz(new TextEncoder().encode('this is not a zip archive at all'), 't.npz'), 'not-a-zip');
    expectFormatError(() => readNpz(writePickle(new Map([['a', 1]])), 'p.npz'), 'not-a-zip');
    expectFormatError(() => readNpz(writeNpy(arrays.get('ts')!), 'n.npz'), 'not-a-zip');
  });

  test.each([false, true])('every prefix of an archive is empty or truncated (compress: %s)', (compress) => {
    const npz = writeNpz(arrays, { compress });
    const reasons = new Map<string, number>();
    for (let len = 0; len < npz.length; len++) {
      const r = formatErrorOf(() => readNpz(npz.subarray(0, len), 'p.npz')).reason;
      reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    expect(reasons.get('empty')).toBe(1);
    expect(reasons.get('truncated')).toBe(npz.length - 1);
  });

  test('a directory pointing past the end of the file is truncated', () => {
    const zip = buildZip([{ name: 'a.npy', data: writeNpy(arrays.get('ts')!) }]);
    // Cut out the middle of the member data but keep the directory: offsets now overshoot.
    const cut = Buffer.concat([zip.subarray(0, 60), zip.subarray(160)]);
    expect(['truncated', 'bad-structure']).toContain(formatErrorOf(() => readNpz(cut, 'cut.npz')).reason);
  });

  test.each([0, 8] as const)('a corrupted member (method %i) is corrupt, naming the member', (method) => {
    const npy = writeNpy(arrays.get('ts')!);
    const zip = buildZip([{ name: 'ts.npy', data: npy, method }]);
    const bad = zip.slice();
    bad[30 + 'ts.npy'.length + (method === 0 ? 150 : 40)] ^= 0x01; // inside the member's data
    const e = expectFormatError(() => readNpz(bad, 'c.npz'), 'corrupt');
    expect(e.file).toBe('c.npz:ts.npy');
    expect(readNpz(zip, 'ok.npz').get('ts')).toEqual(arrays.get('ts'));
  });

  test('a wrong recorded CRC is corrupt, and the message gives both checksums', () => {
    const zip = buildZip([{ name: 'ts.npy', data: writeNpy(arrays.get('ts')!), crc: 0xdeadbeef }]);
    const e = expectFormatError(() => readNpz(zip, 'c.npz'), 'corrupt');
    expect(e.message).toContain('0xdeadbeef');
  });

  test('non-npy members (a text file, a folder) are skipped', () => {
    const zip = zipSync({ 'readme.txt': new TextEncoder().encode('hello'), sub: { 'x.bin': Uint8Array.of(1) }, 'ts.npy': writeNpy(arrays.get('ts')!) });
    const got = readNpz(zip, 'mixed.npz');
    expect([...got.keys()]).toEqual(['ts']);
  });

  test('a member that is not an .npy file is an error naming the member', () => {
    const zip = buildZip([{ name: 'ts.npy', data: new TextEncoder().encode('not numpy') }]);
    const e = expectFormatError(() => readNpz(zip, 'x.npz'), 'bad-magic');
    expect(e.message).toMatch(/^x\.npz:ts\.npy: /);
  });

  test('two members with the same name are bad-structure', () => {
    const npy = writeNpy(arrays.get('ts')!);
    expectFormatError(() => readNpz(buildZip([{ name: 'ts.npy', data: npy }, { name: 'ts.npy', data: npy }]), 'd.npz'), 'bad-structure');
  });

  test('zip64 sizes and offsets in the central directory are read', () => {
    const members = [...arrays].map(([name, arr]) => ({ name: `${name}.npy`, data: writeNpy(arr), zip64: true }));
    expect(readNpz(buildZip(members), 'z64.npz')).toEqual(arrays);
  });

  test('an unknown compression method is unsupported', () => {
    const zip = buildZip([{ name: 'ts.npy', data: writeNpy(arrays.get('ts')!) }]);
    const cd = zip.length - 22 - (46 + 'ts.npy'.length);
    new DataView(zip.buffer, zip.byteOffset).setUint16(cd + 10, 12, true); // bzip2
    expectFormatError(() => readNpz(zip, 'b.npz'), 'unsupported');
  });

  test('an uncompressed size beyond maxBytes is refused before allocating', () => {
    const zip = buildZip([{ name: 'ts.npy', data: writeNpy(arrays.get('ts')!), method: 8 }]);
    const cd = zip.length - 22 - (46 + 'ts.npy'.length);
    new DataView(zip.buffer, zip.byteOffset).setUint32(cd + 24, 0xfffffff0, true);
    expect(expectFormatError(() => readNpz(zip, 'bomb.npz'), 'limit-exceeded').message).toContain('maxBytes');
  });
});

describe('crc32', () => {
  test('native and portable implementations agree with the standard check value', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    const data = writeNpz(arrays, { compress: true });
    expect(crc32Portable(data)).toBe(crc32(data));
  });
});
