/**
 * Bad raw inputs, as real users and hostile files produce them: each one replaces one metric file of a
 * checkpoint folder (or the folder itself) and says what an error about it must say.
 *
 * The bytes are built here, from the good file where that makes the case realistic (a truncated copy, the
 * same data with a NaN in it, the seed dict turned into a list), with the project's own pickle/npz writers
 * and `rawPickle` for what no writer would make. Nothing is checked in.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';
import { prng } from './prng.js';
import type { MetricFile } from '../../dataset/metrics.js';
import { NpArray, NpDtype, NpScalar, OP, type PickleInput, type PyDict, type PyValue, rawPickle, readPickle, u32le, writeNpz, writePickle } from '../../formats/index.js';

/** Where a bad input is planted, and what it is given. */
export interface PlantContext {
  /** The metric file's path (the folder's path for folder cases). */
  path: string;
  /** The good file's bytes (the folder cases get an empty buffer). */
  good: Buffer;
  /** A path outside the tree that a hostile pickle tries to create. */
  marker: string;
}

export interface BadInput {
  /** What it is, as the test names it. */
  name: string;
  /** The metric file replaced, or `folder` for a case that replaces the whole checkpoint folder. */
  file: MetricFile | 'folder';
  /** Puts the bad input in place of the good one. */
  plant(ctx: PlantContext): void;
  /** Puts the good input back (default: the good bytes, replacing whatever is there). */
  restore?(ctx: PlantContext): void;
  /** What the error must say is wrong (besides naming the file). */
  problem: RegExp;
  /** Only meaningful when the CLI does not run as root (permissions). */
  unprivileged?: boolean;
  /** Check the child's peak memory (hostile sizes). */
  boundedMemory?: boolean;
  /** A hostile pickle that would create `marker` if it were executed. */
  createsMarker?: boolean;
  /** Made by an attacker rather than by accident (hostile-input.test.ts runs these, bad-input.test.ts the rest). */
  hostile?: boolean;
}


/** `n` pseudo-random bytes; the first is never 0x80 (a pickle's PROTO) or 'P' (a zip's first byte). */
export function randomBytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(rand() * 256);
  if (bytes[0] === 0x80 || bytes[0] === 0x50) bytes[0] = 0x11;
  return bytes;
}

const binunicode = (s: string): (number | number[] | Uint8Array)[] => {
  const utf8 = new TextEncoder().encode(s);
  return [OP.BINUNICODE, u32le(utf8.length), utf8];
};
const globalOp = (module: string, name: string): (number | string)[] => [OP.GLOBAL, `${module}\n${name}\n`];
const stackGlobal = (module: string, name: string): (number | number[] | Uint8Array)[] => [...binunicode(module), ...binunicode(name), OP.STACK_GLOBAL];

/**
 * `module.name(arg)` as a pickle: what `pickle.loads` would call. GLOBAL (protocols 2, 3) or STACK_GLOBAL
 * (protocol 4), so both ways of naming a global are tried.
 */
export function callPickle(module: string, name: string, arg: string, how: 'GLOBAL' | 'STACK_GLOBAL'): Uint8Array {
  const fn = how === 'GLOBAL' ? globalOp(module, name) : stackGlobal(module, name);
  return rawPickle(OP.PROTO, how === 'GLOBAL' ? 2 : 4, ...fn, ...binunicode(arg), OP.TUPLE1, OP.REDUCE, OP.STOP);
}

/** `subprocess.Popen(['sh', '-c', command])`, the way exploit write-ups spell it (protocol 3). */
export function popenPickle(command: string): Uint8Array {
  return rawPickle(OP.PROTO, 3, ...globalOp('subprocess', 'Popen'), OP.MARK, ...binunicode('sh'), ...binunicode('-c'), ...binunicode(command), OP.LIST, OP.TUPLE1, OP.REDUCE, OP.STOP);
}

/**
 * The good file's data with the hostile call hidden inside it, as an extra key of the top dict: a reader
 * that looked only at the keys it needs would still have to refuse the whole file.
 */
export function hiddenCall(good: Buffer, module: string, name: string, arg: string): Uint8Array {
  const data = readPickle(good, 'good.pkl') as PyDict;
  const valid = writePickle(data as PickleInput, { protocol: 3 });
  // Replace the final STOP: top_dict['zz'] = module.name(arg).
  return rawPickle(valid.subarray(0, valid.length - 1), ...binunicode('zz'), ...globalOp(module, name), ...binunicode(arg), OP.TUPLE1, OP.REDUCE, OP.SETITEM, OP.STOP);
}

/** `depth` nested lists: [[[...]]]. */
export function deepPickle(depth: number): Uint8Array {
  return rawPickle(OP.PROTO, 2, new Array(depth).fill(OP.EMPTY_LIST), new Array(depth - 1).fill(OP.APPEND), OP.STOP);
}

/** L0 = [1]; L(k+1) = [Lk, Lk]: a ~900-byte file that expands to 2^levels lists ("billion laughs"). */
export function laughsPickle(levels: number): Uint8Array {
  const ops: (number | number[])[] = [OP.PROTO, 2, OP.EMPTY_LIST, OP.BININT1, 1, OP.APPEND, OP.LONG_BINPUT, u32le(0), OP.POP];
  for (let k = 1; k <= levels; k++) {
    ops.push(OP.EMPTY_LIST, OP.LONG_BINGET, u32le(k - 1), OP.APPEND, OP.LONG_BINGET, u32le(k - 1), OP.APPEND, OP.LONG_BINPUT, u32le(k));
    if (k < levels) ops.push(OP.POP);
  }
  ops.push(OP.STOP);
  return rawPickle(...ops);
}

/** A dict `{0: "..."}` whose string claims 4 GiB (the file has a few bytes): an allocation a naive reader makes. */
export function lengthClaimPickle(): Uint8Array {
  return rawPickle(OP.PROTO, 4, OP.EMPTY_DICT, OP.BININT1, 0, OP.BINUNICODE, 0xff, 0xff, 0xff, 0xff, 0x41, 0x41, OP.SETITEM, OP.STOP);
}

/**
 * An .npz whose `tr_err.npy` is a valid deflated member that inflates to `mib` MiB (a "zip bomb": about
 * 1 kB per MiB on disk). Built from one deflated MiB of zeros repeated: each piece ends in a full flush,
 * so the pieces are independent deflate blocks, and an empty final block closes the stream.
 *
 * Hand-written zip framing (below) rather than fflate's zipSync: that would need the 512 MiB in memory to
 * compress it; here the test never holds more than one MiB. numpy and Python's zipfile load the result.
 */
export function zipBombNpz(mib: number): Buffer {
  // A header claiming as many float64 values as the member holds after it (its padded length is 128 bytes
  // whatever the count, so the count can be worked out from a first header).
  const values = (mib * 1024 * 1024 - npyHeaderFor(0).length) / 8;
  const npyHeader = npyHeaderFor(values);
  if (npyHeader.length !== npyHeaderFor(0).length) throw new Error('npy header length changed with the count');
  const zeros = Buffer.alloc(1024 * 1024);
  const piece = deflateRawSync(zeros, { finishFlush: zlibConstants.Z_FULL_FLUSH });
  const first = deflateRawSync(Buffer.concat([npyHeader, zeros.subarray(npyHeader.length)]), { finishFlush: zlibConstants.Z_FULL_FLUSH });
  const data = Buffer.concat([first, ...new Array<Buffer>(mib - 1).fill(piece), deflateRawSync(Buffer.alloc(0))]);
  let crc = crc32(npyHeader);
  crc = crc32(zeros.subarray(npyHeader.length), crc);
  for (let i = 1; i < mib; i++) crc = crc32(zeros, crc);
  return zipOneMember('tr_err.npy', data, crc, mib * 1024 * 1024);
}

/** An .npy (format 1.0) header for `n` little-endian float64 values, padded to 64 bytes as numpy does. */
function npyHeaderFor(n: number): Buffer {
  let dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${n},), }`;
  while ((10 + dict.length + 1) % 64 !== 0) dict += ' ';
  dict += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** A zip archive of one deflated member (local header, data, central directory, end record). */
function zipOneMember(name: string, data: Buffer, crc: number, size: number): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflated
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42); // local header offset
  const centralOffset = local.length + nameBytes.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

/** Replaces a seed dict's run values with `edit(run, seed)`'s (the good file's structure otherwise). */
function editRuns(good: Buffer, edit: (run: PyDict, seed: number) => void): Uint8Array {
  const data = readPickle(good, 'good.pkl') as PyDict;
  for (const [seed, run] of data) edit(run as PyDict, Number(seed));
  return writePickle(data as PickleInput, { protocol: 3 });
}

/** A float as the real files hold it: a Python float stays a float, a numpy scalar keeps its dtype. */
function sameKind(old: PyValue | undefined, value: number): PyValue {
  return old instanceof NpScalar ? new NpScalar(old.dtype, value) : value;
}

const write = (path: string, bytes: Uint8Array): void => writeFileSync(path, bytes);

/** The table: every bad input the issue lists, one entry each (hostile globals several times). */
export const BAD_INPUTS: BadInput[] = [
  {
    name: 'a truncated pickle',
    file: 'hessian.pkl',
    plant: ({ path, good }) => write(path, good.subarray(0, Math.floor(good.length / 2))),
    problem: /truncated at byte \d+/,
  },
  {
    name: 'an empty file',
    file: 'loss_acc.pkl',
    plant: ({ path }) => write(path, new Uint8Array(0)),
    problem: /the file is empty \(0 bytes\)/,
  },
  {
    name: 'random bytes named .pkl',
    file: 'loss_acc_test.pkl',
    plant: ({ path }) => write(path, randomBytes(4096, 1234)),
    problem: /does not start with a pickle protocol header/,
  },
  {
    name: 'random bytes named .npz',
    file: 'curve_test.npz',
    plant: ({ path }) => write(path, randomBytes(8192, 5678)),
    problem: /not a zip archive|no end-of-central-directory/i,
  },
  {
    name: 'a zip that is not an npz',
    file: 'curve_test.npz',
    plant: ({ path }) => write(path, zipSync({ 'notes.txt': strToU8('training log, not arrays\n') })),
    problem: /no array 'tr_err' in the archive \(found: no arrays\)/,
  },
  {
    name: 'an npz without tr_err',
    file: 'curve_test.npz',
    plant: ({ path }) => write(path, writeNpz({ te_err: new NpArray(new NpDtype('<f8'), [5], Float64Array.of(1, 2, 3, 2, 1)) })),
    problem: /no array 'tr_err' in the archive \(found: te_err\)/,
  },
  {
    name: 'a pickle with the wrong structure (a list where a dict of seeds is expected)',
    file: 'loss_acc_test.pkl',
    plant: ({ path, good }) => write(path, writePickle([...(readPickle(good, 'good.pkl') as PyDict).values()] as PickleInput, { protocol: 3 })),
    problem: /unexpected structure: expected \{seed: .*found a list/,
  },
  {
    name: 'a NaN accuracy',
    file: 'loss_acc_test.pkl',
    plant: ({ path, good }) => write(path, editRuns(good, (run, seed) => seed === 2 && run.set('accuracy', sameKind(run.get('accuracy'), NaN)))),
    problem: /NaN.*\[2\]\['accuracy'\]|\[2\]\['accuracy'\].*NaN/,
  },
  {
    name: 'an infinite Hessian trace',
    file: 'hessian.pkl',
    plant: ({ path, good }) => write(path, editRuns(good, (run, seed) => seed === 1 && run.set('trace', sameKind(run.get('trace'), Infinity)))),
    problem: /inf.*\[1\]\['trace'\]|\[1\]\['trace'\].*inf/i,
  },
  {
    name: 'a missing seed (0, 1, 3, 4)',
    file: 'loss_acc.pkl',
    plant: ({ path, good }) => {
      const data = readPickle(good, 'good.pkl') as PyDict;
      data.delete(2);
      write(path, writePickle(data as PickleInput, { protocol: 3 }));
    },
    problem: /seed 2 is missing/,
  },
  {
    name: 'posix.system("touch MARKER") (GLOBAL, protocol 2)',
    file: 'CKA_mixup_alpha_16.0.pkl',
    plant: ({ path, marker }) => write(path, callPickle('posix', 'system', `touch ${marker}`, 'GLOBAL')),
    problem: /forbidden global posix\.system|posix\.system/,
    createsMarker: true,
    hostile: true,
  },
  {
    name: 'builtins.eval (STACK_GLOBAL, protocol 4)',
    file: 'model_dist.pkl',
    plant: ({ path, marker }) => write(path, callPickle('builtins', 'eval', `open(${JSON.stringify(marker)}, 'w')`, 'STACK_GLOBAL')),
    problem: /builtins\.eval/,
    createsMarker: true,
    hostile: true,
  },
  {
    name: 'subprocess.Popen(["sh", "-c", ...])',
    file: 'loss_acc.pkl',
    plant: ({ path, marker }) => write(path, popenPickle(`touch ${marker}`)),
    problem: /subprocess\.Popen/,
    createsMarker: true,
    hostile: true,
  },
  {
    name: 'os.system hidden inside valid data',
    file: 'hessian.pkl',
    plant: ({ path, good, marker }) => write(path, hiddenCall(good, 'os', 'system', `touch ${marker}`)),
    problem: /os\.system/,
    createsMarker: true,
    hostile: true,
  },
  {
    name: 'builtins.getattr (another global)',
    file: 'loss_acc_test.pkl',
    plant: ({ path }) => write(path, callPickle('builtins', 'getattr', 'x', 'STACK_GLOBAL')),
    problem: /builtins\.getattr/,
    hostile: true,
  },
  {
    name: 'a pickle nested 100,000 lists deep',
    file: 'CKA_mixup_alpha_16.0.pkl',
    plant: ({ path }) => write(path, deepPickle(100_000)),
    problem: /maxDepth/,
    boundedMemory: true,
    hostile: true,
  },
  {
    name: 'a 1 kB pickle expanding to 2^60 lists',
    file: 'model_dist.pkl',
    plant: ({ path }) => write(path, laughsPickle(60)),
    problem: /maxElements/,
    boundedMemory: true,
    hostile: true,
  },
  {
    name: 'a pickle whose string claims 4 GiB',
    file: 'hessian.pkl',
    plant: ({ path }) => write(path, lengthClaimPickle()),
    problem: /claims 4294967295 bytes, \d+ left/,
    boundedMemory: true,
    hostile: true,
  },
  {
    name: 'an npz of 500 kB whose tr_err inflates to 512 MiB (a zip bomb)',
    file: 'curve_test.npz',
    plant: ({ path }) => write(path, zipBombNpz(512)),
    problem: /claims 536870912 uncompressed bytes \(limit maxBytes = \d+\)/,
    boundedMemory: true,
    hostile: true,
  },
  {
    name: 'a 3 GiB file (sparse)',
    file: 'loss_acc.pkl',
    plant: ({ path }) => {
      write(path, new Uint8Array(0));
      truncateSync(path, 3 * 1024 ** 3);
    },
    problem: /3,?221,?225,?472 bytes|3\.0 GiB|over the limit/,
    boundedMemory: true,
    hostile: true,
  },
  {
    name: 'a metric file that is a symbolic link loop',
    file: 'hessian.pkl',
    plant: ({ path }) => {
      rmSync(path, { force: true });
      symlinkSync('hessian.pkl', path);
    },
    problem: /symbolic link/i,
  },
  {
    name: 'a folder where a metric file should be',
    file: 'model_dist.pkl',
    plant: ({ path }) => {
      rmSync(path);
      mkdirSync(path);
    },
    restore: ({ path, good }) => {
      rmSync(path, { recursive: true });
      writeFileSync(path, good);
    },
    problem: /is not a regular file \(it is a folder\)/,
  },
  {
    // Opening a FIFO for reading blocks until a writer comes: a reader that did would hang the run, deaf
    // even to Ctrl-C (its handler is JavaScript, and the thread is stuck in the system call).
    name: 'a named pipe (FIFO) where a metric file should be',
    file: 'hessian.pkl',
    plant: ({ path }) => {
      rmSync(path);
      execFileSync('mkfifo', [path]);
    },
    problem: /is not a regular file \(it is a named pipe\)/,
  },
  {
    name: 'a checkpoint folder that is a symbolic link loop',
    file: 'folder',
    plant: ({ path }) => {
      renameSync(path, `${path}.good`);
      symlinkSync('metrics', path);
    },
    restore: ({ path }) => {
      rmSync(path);
      renameSync(`${path}.good`, path);
    },
    problem: /ELOOP: too many symbolic links/,
  },
  {
    name: 'an unreadable checkpoint folder (chmod 000 on its parent)',
    file: 'folder',
    plant: ({ path }) => chmodSync(dirname(path), 0o000),
    restore: ({ path }) => chmodSync(dirname(path), 0o755),
    problem: /permission denied/i,
    unprivileged: true,
  },
  {
    name: 'an unreadable file (chmod 000)',
    file: 'loss_acc_test.pkl',
    plant: ({ path }) => chmodSync(path, 0o000),
    problem: /permission denied/i,
    unprivileged: true,
  },
];

/** Puts the good bytes back (replacing a symlink, restoring permissions). */
export function restoreGood(path: string, good: Buffer): void {
  rmSync(path, { force: true });
  writeFileSync(path, good, { mode: 0o644 });
}
