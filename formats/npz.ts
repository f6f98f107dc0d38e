/**
 * numpy's .npz archives: a zip of `.npy` members named `<array>.npy`, stored (`numpy.savez`) or deflated
 * (`numpy.savez_compressed`). Reading can be limited to the arrays a caller needs, so one that
 * needs 1 member out of 34 neither inflates nor parses the rest.
 */
import { zipSync, type Zippable } from 'fflate';
import { FormatError } from './errors.js';
import { resolveLimits, type ReadLimits } from './limits.js';
import { readNpy, writeNpy } from './npy.js';
import type { NpArray } from './values.js';
import { extractZipMember, readZipDirectory } from './zip.js';

export interface ReadNpzOptions {
  /** Read only these arrays (names without `.npy`); each must be present (`missing-member` otherwise). */
  only?: readonly string[];
  /** Bounds for each member (its uncompressed size, an object array's pickle). */
  limits?: Partial<ReadLimits>;
}

/**
 * Reads the arrays of an .npz archive, keyed by name without `.npy`, in archive order. Members that are not
 * `.npy` files are skipped (numpy would hand them out as raw bytes). Every member read is CRC-checked.
 * Errors inside a member name it as `<file>:<member>.npy`.
 */
export function readNpz(bytes: Uint8Array, file: string, opts: ReadNpzOptions = {}): Map<string, NpArray> {
  const wanted = opts.only === undefined ? null : new Set(opts.only);
  const entries = readZipDirectory(bytes, file, wanted === null ? undefined : new Set([...wanted].map((name) => `${name}.npy`)));
  const limits = resolveLimits(opts.limits);
  const out = new Map<string, NpArray>();
  for (const entry of entries) {
    if (!entry.name.endsWith('.npy')) continue;
    const key = entry.name.slice(0, -4);
    if (wanted !== null && !wanted.has(key)) continue;
    if (out.has(key)) {
      throw new FormatError(file, 'bad-structure', `the archive holds two members named ${entry.name}`, undefined, entry.localHeaderOffset);
    }
    const member = extractZipMember(bytes, entry, file, limits.maxBytes);
    out.set(key, readNpy(member, `${file}:${entry.name}`, limits));
  }
  if (wanted !== null && out.size < wanted.size) {
    const missing = [...wanted].find((name) => !out.has(name))!;
    const found = readZipDirectory(bytes, file).filter((e) => e.name.endsWith('.npy')).map((e) => e.name.slice(0, -4)).join(', ');
    throw new FormatError(file, 'missing-member', `no array '${missing}' in the archive (found: ${found === '' ? 'no arrays' : found})`);
  }
  return out;
}

export interface WriteNpzOptions {
  /** Deflate the members, as `numpy.savez_compressed` (default: stored, as `numpy.savez`). */
  compress?: boolean;
}

/** Fixed member timestamp (the zip epoch, as numpy's savez writes) so equal arrays give equal bytes. */
const ZIP_EPOCH = new Date(1980, 0, 1, 0, 0, 0);

/**
 * The bytes of an .npz archive holding `arrays` as `<name>.npy` members, loadable by `numpy.load` (without
 * `allow_pickle` unless an array has dtype `|O`). Output is deterministic: same arrays, same bytes.
 */
export function writeNpz(arrays: Record<string, NpArray> | Map<string, NpArray>, opts: WriteNpzOptions = {}): Uint8Array {
  const level = opts.compress === true ? 6 : 0;
  const files: Zippable = {};
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  for (const [name, arr] of entries) {
    files[`${name}.npy`] = [writeNpy(arr), { level, mtime: ZIP_EPOCH }];
  }
  return zipSync(files, { mtime: ZIP_EPOCH });
}
