/**
 * Reading zip archives safely: the central directory (zip64 aware), bounds-checked member extraction, and
 * CRC-32 verification. Inflation itself is fflate's.
 *
 * Why not fflate's `unzipSync` alone: it does not verify CRC-32 (a corrupted member comes back as garbage),
 * it does not bounds-check offsets (a truncated archive yields short members silently), and it allocates the
 * uncompressed size the archive claims before inflating (a 4 GB claim is a 4 GB allocation). Parsing the
 * directory here is ~100 lines and lets `readNpz` skip members it was not asked for without inflating them.
 */
import * as zlib from 'node:zlib';
import { inflateSync } from 'fflate';
import { asciiOrNull } from './ascii.js';
import { FormatError } from './errors.js';

/** One member as the central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the member's local header. */
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/**
 * Reads the central directory (with `only`, just the entries of those names, the others checked and passed
 * over). Throws `not-a-zip` when there is none, `truncated` when it points past the end.
 */
export function readZipDirectory(bytes: Uint8Array, file: string, only?: ReadonlySet<string>): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  if (n === 0) throw new FormatError(file, 'empty', 'the file is empty (0 bytes)');
  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let i = n - 22; i >= 0 && i >= n - 22 - 0xffff; i--) {
    if (view.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    // A file cut short keeps its start: the local header signature PK\3\4 (or as much of it as is left).
    const looksLikeZip = [0x50, 0x4b, 3, 4].every((b, i) => i >= n || bytes[i] === b);
    throw new FormatError(
      file,
      looksLikeZip ? 'truncated' : 'not-a-zip',
      looksLikeZip
        ? `truncated: it starts like a zip archive but has no end-of-central-directory record (${n} bytes)`
        : 'is not a zip archive (no end-of-central-directory record)',
    );
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) {
      throw new FormatError(file, 'bad-structure', 'the zip directory needs a zip64 record that is missing', undefined, eocd);
    }
    const z = Number(view.getBigUint64(loc + 8, true));
    if (z + 56 > n || view.getUint32(z, true) !== SIG_ZIP64_EOCD) {
      throw new FormatError(file, 'truncated', `the zip64 directory record at byte ${z} lies outside the ${n}-byte file`, undefined, loc);
    }
    count = Number(view.getBigUint64(z + 32, true));
    cdSize = Number(view.getBigUint64(z + 40, true));
    cdOffset = Number(view.getBigUint64(z + 48, true));
  }
  if (cdOffset + cdSize > n) {
    throw new FormatError(file, 'truncated', `the zip directory (bytes ${cdOffset}..${cdOffset + cdSize}) lies beyond the end of the ${n}-byte file`, undefined, eocd);
  }
  const entries: ZipEntry[] = [];
  // With `only`, an entry whose name is none of them is checked and passed over without being made: a
  // metric .npz has 34 members of which the dataset reads one, 3,380 files per cold build.
  const wanted = only && [...only].map((name) => Buffer.from(name, 'latin1'));
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let k = 0; k < count; k++) {
    if (p + 46 > end || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw new FormatError(file, 'bad-structure', `zip directory entry ${k + 1} of ${count} at byte ${p} is damaged`, undefined, p);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc32 = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const nameStart = p + 46;
    const extraStart = nameStart + nameLen;
    const next = extraStart + extraLen + commentLen;
    if (next > end) throw new FormatError(file, 'bad-structure', `zip directory entry ${k + 1} at byte ${p} runs past the directory`, undefined, p);
    if (wanted && !wanted.some((name) => sameBytes(bytes, nameStart, extraStart, name)) && isAscii(bytes, nameStart, extraStart)) {
      p = next;
      continue;
    }
    const name = asciiOrNull(bytes, nameStart, extraStart) ?? ((flags & 0x800) !== 0 ? utf8 : latin1).decode(bytes.subarray(nameStart, extraStart));
    // zip64 extended information: present fields are those whose 32-bit value is 0xFFFFFFFF, in this order.
    if (uncompressedSize === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
      for (let e = extraStart; e + 4 <= extraStart + extraLen; ) {
        const id = view.getUint16(e, true);
        const size = view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          const field = (): number => {
            if (f + 8 > e + 4 + size) throw new FormatError(file, 'bad-structure', `the zip64 field of ${name} is too short`, undefined, e);
            const v = Number(view.getBigUint64(f, true));
            f += 8;
            return v;
          };
          if (uncompressedSize === U32_MAX) uncompressedSize = field();
          if (compressedSize === U32_MAX) compressedSize = field();
          if (localHeaderOffset === U32_MAX) localHeaderOffset = field();
          break;
        }
        e += 4 + size;
      }
    }
    entries.push({ name, method, flags, crc32, compressedSize, uncompressedSize, localHeaderOffset });
    p = next;
  }
  return entries;
}

/**
 * The uncompressed bytes of one member, CRC-checked. Stored members are returned as views into `bytes`.
 * `maxBytes` bounds the uncompressed size claimed by the archive before anything is allocated.
 */
export function extractZipMember(bytes: Uint8Array, entry: ZipEntry, file: string, maxBytes: number): Uint8Array {
  const where = `${file}:${entry.name}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = entry.localHeaderOffset;
  if (h + 30 > bytes.length) {
    throw new FormatError(where, 'truncated', `the member's local header (byte ${h}) lies beyond the end of the ${bytes.length}-byte archive`, undefined, h);
  }
  if (view.getUint32(h, true) !== SIG_LOCAL) {
    throw new FormatError(where, 'bad-structure', `no local header where the zip directory says the member starts (byte ${h})`, undefined, h);
  }
  if ((entry.flags & 1) !== 0) {
    throw new FormatError(where, 'unsupported', 'the member is encrypted', 'store the archive without encryption');
  }
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) {
    throw new FormatError(where, 'truncated', `truncated: the member needs bytes ${start}..${end} of a ${bytes.length}-byte archive`, undefined, start);
  }
  if (entry.uncompressedSize > maxBytes) {
    throw new FormatError(where, 'limit-exceeded', `the member claims ${entry.uncompressedSize} uncompressed bytes (limit maxBytes = ${maxBytes})`,
      'the archive is not the one expected, or pass a larger maxBytes in the limits if it really is this large', h);
  }
  const raw = bytes.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.uncompressedSize) {
      throw new FormatError(where, 'bad-structure', `the stored member's sizes disagree (${entry.compressedSize} stored, ${entry.uncompressedSize} claimed)`, undefined, h);
    }
    data = raw;
  } else if (entry.method === 8) {
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.uncompressedSize) });
    } catch (e) {
      throw new FormatError(where, 'corrupt', `the deflated data cannot be inflated (${(e as Error).message})`, undefined, start);
    }
    if (data.length !== entry.uncompressedSize) {
      throw new FormatError(where, 'corrupt', `the deflated data inflates to ${data.length} bytes, not the ${entry.uncompressedSize} the archive claims`, undefined, start);
    }
  } else {
    throw new FormatError(where, 'unsupported', `zip compression method ${entry.method} (only stored and deflated are read)`, 're-create the archive with numpy.savez or numpy.savez_compressed', h);
  }
  const crc = crc32(data);
  if (crc !== entry.crc32) {
    throw new FormatError(where, 'corrupt', `CRC-32 mismatch (the archive records ${hex(entry.crc32)}, the data has ${hex(crc)})`, undefined, start);
  }
  return data;
}

function hex(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (zip's polynomial): node:zlib's native one where the Node version has it (20.15+), else `crc32Portable`. */
export function crc32(data: Uint8Array): number {
  return nativeCrc32 !== undefined ? nativeCrc32(data) >>> 0 : crc32Portable(data);
}

let table: Uint32Array | null = null;

/** CRC-32 in plain JS (table-driven), for Node versions without `zlib.crc32`. */
export function crc32Portable(data: Uint8Array): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether `bytes[from, to)` are exactly `name`. */
function sameBytes(bytes: Uint8Array, from: number, to: number, name: Uint8Array): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[from + i] !== name[i]) return false;
  return true;
}

/** Whether `bytes[from, to)` are ASCII (a name in another encoding is decoded before it is compared). */
function isAscii(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] > 0x7f) return false;
  return true;
}
