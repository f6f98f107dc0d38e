/**
 * The parse task's value as packed numbers: a checkpoint's 11 metrics, its coordinates and seed count
 * as float64s, its absent files as a bit set, and its strings (the data axis value, notes) as
 * length-prefixed UTF-8. 131 bytes for a typical folder against ~330 as a v8-serialised object, and a
 * decode that is a few typed reads rather than the v8 deserialiser building an object graph (the grid
 * decodes 1,690 of them per collection).
 *
 * Written by hand rather than with a schema library (protobuf, msgpack): the layout is 20 fields, fixed,
 * and the point is float64s copied as bits (NaN, -0 and infinities survive exactly, as v8 kept them).
 *
 * Layout (little-endian): u8 version | f64 x 11 metrics (METRIC_NAMES order) | f64 bs | f64 width |
 * f64 seeds | u8 absent bits (bit k: METRIC_FILES[k]) | str data | u32 note count | str x notes,
 * where str = u32 byte length + UTF-8 bytes.
 */
import type { MetricFile, Metrics } from './metrics.js';
import { METRIC_FILES, METRIC_NAMES } from './metrics.js';

/** Bumped with the layout: it is the codec's id, which is in the parse tasks' keys. */
const VERSION = 1;
export const PARSE_CODEC_ID = `parse-packed-${VERSION}`;

/** The parse task's value (`ParsedCheckpoint` in tasks/parse.ts), as far as the layout needs it. */
export interface PackedCheckpoint {
  coords: { bs: number; width: number; data: string };
  metrics: Metrics;
  seeds: number;
  absent: MetricFile[];
  notes?: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Packs a parse value; throws naming the field when the value is not of the parse task's shape. */
export function encodeCheckpoint(value: unknown): Uint8Array {
  const v = value as PackedCheckpoint;
  const keys = v && typeof v === 'object' && v.metrics && typeof v.metrics === 'object' ? Object.keys(v.metrics) : [];
  if (keys.length !== METRIC_NAMES.length || METRIC_NAMES.some((name, k) => keys[k] !== name || typeof v.metrics[name] !== 'number')) {
    throw new TypeError(`not a parsed checkpoint: metrics must be exactly ${METRIC_NAMES.join(', ')} (numbers, in that order)`);
  }
  if (typeof v.coords?.bs !== 'number' || typeof v.coords.width !== 'number' || typeof v.coords.data !== 'string' || typeof v.seeds !== 'number') {
    throw new TypeError('not a parsed checkpoint: coords {bs, width, data} and seeds are required');
  }
  const data = encoder.encode(v.coords.data);
  const notes = (v.notes ?? []).map((note) => encoder.encode(note));
  let size = 1 + 8 * 14 + 1 + 4 + data.length + 4;
  for (const note of notes) size += 4 + note.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let at = 0;
  view.setUint8(at++, VERSION);
  for (const name of METRIC_NAMES) (view.setFloat64(at, v.metrics[name], true), (at += 8));
  for (const n of [v.coords.bs, v.coords.width, v.seeds]) (view.setFloat64(at, n, true), (at += 8));
  let bits = 0;
  for (const file of v.absent) {
    const k = METRIC_FILES.indexOf(file);
    if (k < 0) throw new TypeError(`not a parsed checkpoint: unknown absent file ${JSON.stringify(file)}`);
    bits |= 1 << k;
  }
  view.setUint8(at++, bits);
  const putString = (text: Uint8Array): void => {
    view.setUint32(at, text.length, true);
    bytes.set(text, at + 4);
    at += 4 + text.length;
  };
  putString(data);
  view.setUint32(at, notes.length, true);
  at += 4;
  for (const note of notes) putString(note);
  return bytes;
}

/** Unpacks what {@link encodeCheckpoint} wrote: the same fields, in the same key order. */
export function decodeCheckpoint(bytes: Uint8Array): PackedCheckpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const version = view.getUint8(at++);
  if (version !== VERSION) throw new TypeError(`parse value of layout ${version}, expected ${VERSION}`);
  const metrics = {} as Metrics;
  for (const name of METRIC_NAMES) (metrics[name] = view.getFloat64(at, true)), (at += 8);
  const bs = view.getFloat64(at, true);
  const width = view.getFloat64(at + 8, true);
  const seeds = view.getFloat64(at + 16, true);
  at += 24;
  const bits = view.getUint8(at++);
  const getString = (): string => {
    const length = view.getUint32(at, true);
    const text = decoder.decode(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
    return text;
  };
  const data = getString();
  const noteCount = view.getUint32(at, true);
  at += 4;
  const value: PackedCheckpoint = { coords: { bs, width, data }, metrics, seeds, absent: METRIC_FILES.filter((_, k) => bits & (1 << k)) };
  if (noteCount > 0) {
    const notes: string[] = [];
    for (let k = 0; k < noteCount; k++) notes.push(getString());
    value.notes = notes;
  }
  return value;
}

/** The parse task's `codec` (see `TaskDeclaration.codec`). */
export const PARSE_CODEC = { id: PARSE_CODEC_ID, encode: encodeCheckpoint, decode: decodeCheckpoint };
