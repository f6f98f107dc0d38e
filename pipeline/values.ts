/**
 * Task values as bytes and back: the default codec (v8 serialisation), a task's own `codec`, and the
 * lazily decoded upstream map a run function reads (`ctx.upstream`).
 *
 * Why lazy: an incremental grid over 1,690 parse outputs that patches one changed checkpoint reads one of
 * them; fetching and decoding all 1,690 would make the cost of a change grow with the project (fetching
 * them alone took ~100 ms of a ~1 s one-checkpoint rebuild). Each value is decoded on its first `get` and
 * only then. The store is asynchronous and `get` is not, so the engine fetches up front the bytes it
 * expects the task to read: every dependency, or for an incremental task with a previous result only the
 * changed ones. A `get` of a dependency whose bytes were not fetched throws {@link UpstreamNotFetched};
 * the engine then fetches them all and runs the task again (run functions are pure).
 */
import v8 from 'node:v8';
import { InvalidResultError } from './errors.js';
import type { TaskDeclaration, ValueCodec } from './task.js';

/** The default: v8 serialisation (NaN, typed arrays, Maps survive). */
export const V8_CODEC: ValueCodec = {
  encode: (value) => v8.serialize(value),
  decode: (bytes) => v8.deserialize(bytes),
};

/** The codec a task's value is stored with. */
export function codecOf(task: Pick<TaskDeclaration, 'codec'>): ValueCodec {
  return task.codec ?? V8_CODEC;
}

/** Encodes a run function's value, with an error naming the task when it is not storable. */
export function encodeValue(id: string, task: Pick<TaskDeclaration, 'codec'>, value: unknown): Uint8Array {
  try {
    return codecOf(task).encode(value);
  } catch (error) {
    const what = task.codec ? `encoded by codec ${task.codec.id}` : 'serialised';
    throw new InvalidResultError(id, `the value cannot be ${what} (${(error as Error).message}); return plain data, arrays, typed arrays and Maps`);
  }
}

/** A run read a dependency the engine did not fetch (see the file header): caught by the engine. */
export class UpstreamNotFetched extends Error {
  override readonly name = 'UpstreamNotFetched';
  constructor(readonly dependency: string) {
    super(`upstream ${dependency} was not fetched for this run (the engine fetches it and runs the task again)`);
  }
}

/** `ctx.upstream`: the bytes of every dependency (undefined: not fetched), each decoded on first read (then kept). */
export class LazyUpstream implements ReadonlyMap<string, unknown> {
  readonly #bytes: Map<string, Uint8Array | undefined>;
  readonly #codecs: Map<string, ValueCodec>;
  readonly #decoded = new Map<string, unknown>();
  /** How many values were decoded: what the engine-rig tests check laziness by. */
  decodes = 0;
  /** A `get` found bytes not fetched (set even if the run function caught the error). */
  missed = false;

  constructor(entries: ReadonlyArray<readonly [id: string, bytes: Uint8Array | undefined, codec: ValueCodec]>) {
    this.#bytes = new Map(entries.map(([id, bytes]) => [id, bytes]));
    this.#codecs = new Map(entries.map(([id, , codec]) => [id, codec]));
  }

  get size(): number {
    return this.#bytes.size;
  }
  has(id: string): boolean {
    return this.#bytes.has(id);
  }
  get(id: string): unknown {
    if (this.#decoded.has(id)) return this.#decoded.get(id);
    if (!this.#bytes.has(id)) return undefined;
    const bytes = this.#bytes.get(id);
    if (bytes === undefined) {
      this.missed = true;
      throw new UpstreamNotFetched(id);
    }
    this.decodes++;
    const value = this.#codecs.get(id)!.decode(bytes);
    this.#decoded.set(id, value);
    return value;
  }
  *keys(): MapIterator<string> {
    yield* this.#bytes.keys();
  }
  *values(): MapIterator<unknown> {
    for (const id of this.#bytes.keys()) yield this.get(id);
  }
  *entries(): MapIterator<[string, unknown]> {
    for (const id of this.#bytes.keys()) yield [id, this.get(id)];
  }
  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }
  forEach(callback: (value: unknown, key: string, map: ReadonlyMap<string, unknown>) => void, thisArg?: unknown): void {
    for (const [id, value] of this.entries()) callback.call(thisArg, value, id, this);
  }
}
