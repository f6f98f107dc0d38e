/**
 * Typed errors for the file-format readers and writers.
 *
 * A `FormatError` is what a person sees when a file cannot be read, so its message always says three
 * things: which file, what was wrong with it (with the byte offset where that helps), and what to do about it.
 * Code that needs to branch on the cause reads `reason` instead of parsing the message.
 */

/** Why a file could not be read. */
export type FormatErrorReason =
  /** The file has no bytes at all. */
  | 'empty'
  /** The file ends in the middle of something (an opcode's argument, a length-prefixed payload, a zip member). */
  | 'truncated'
  /** The first bytes are not those of the expected format (not a pickle, not an .npy file). */
  | 'bad-magic'
  /** The bytes are not a zip archive (no end-of-central-directory record). */
  | 'not-a-zip'
  /** A pickle names a Python global outside the allowlist; nothing was imported or run. */
  | 'forbidden-global'
  /** A pickle uses an opcode this reader deliberately does not implement (sets, persistent ids, protocol 0 text). */
  | 'unsupported-opcode'
  /** A well-formed construct this reader does not handle (a dtype such as `>f8`, a compression method, a protocol). */
  | 'unsupported'
  /** The bytes parse but do not make sense (stack underflow, a memo index never stored, a dict key of a wrong type). */
  | 'bad-structure'
  /** A safety limit (nesting depth, memo size, element count, bytes allocated) was reached. */
  | 'limit-exceeded'
  /** The header of an .npy file is malformed. */
  | 'bad-header'
  /** An archive lacks a member the caller asked for. */
  | 'missing-member'
  /** Stored data fails its own checksum (a zip member's CRC-32). */
  | 'corrupt';

/** What a person can do about each kind of failure, unless the thrower knows better. */
const DEFAULT_FIX: Record<FormatErrorReason, string> = {
  empty: 'the file is empty: re-copy it from the training run',
  truncated: 'the file is incomplete: re-copy it from the training run',
  'bad-magic': 'the file is not in the expected format: check the path',
  'not-a-zip': 'the file is not a zip archive (.npz): check the path or re-copy it from the training run',
  'forbidden-global': 'the file holds more than plain data and numpy values (a class this reader never loads), or was tampered with',
  'unsupported-opcode': 'the file was not written by pickle.dump of plain data and numpy values; re-save it with protocol 2 to 5',
  unsupported: 'convert the file to a supported form (little-endian float64/float32/int64/int32/bool/uint8 data)',
  'bad-structure': 'the file is corrupt or was not written by Python pickle/numpy: re-copy it from the training run',
  'limit-exceeded': 'the file is not the one expected, or raise the limit named above if it really is this large',
  'bad-header': 'the file is corrupt or was not written by numpy: re-copy it from the training run',
  'missing-member': 'the archive was written by a different version of the training code: check which arrays it holds',
  corrupt: 'the file was damaged in transfer or on disk: re-copy it from the training run',
};

/** A file could not be read (or a value could not be written) in one of the supported formats. */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  /** What went wrong, without the file name or the fix. */
  readonly detail: string;
  /** What a person should do about it. */
  readonly fix: string;

  /**
   * @param file   the file as the user knows it (a path; `archive.npz:member.npy` inside a zip)
   * @param reason the cause, for code that branches on it
   * @param detail what was wrong, e.g. `truncated at byte 212 (BINFLOAT needs 8 bytes, 3 left)`
   * @param fix    what to do; defaults to a sentence chosen by `reason`
   * @param offset byte offset in `file` where the problem was found, when there is one
   */
  constructor(
    readonly file: string,
    readonly reason: FormatErrorReason,
    detail: string,
    fix?: string,
    readonly offset?: number,
  ) {
    const why = fix ?? DEFAULT_FIX[reason];
    super(`${file}: ${detail}; ${why}`);
    this.detail = detail;
    this.fix = why;
  }
}

/**
 * A value handed to a writer (`writePickle`, `writeNpy`, `writeNpz`) that the format cannot hold.
 * This is a programming error in the caller, not a problem with any file, so it is a `TypeError`.
 */
export class UnwritableValueError extends TypeError {
  override readonly name = 'UnwritableValueError';
  /**
   * @param path   where in the value, e.g. `[0]['trace']` (empty for the value itself)
   * @param detail what is wrong with it and what would be accepted
   */
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path === '' ? 'the value' : `value at ${path}`}: ${detail}`);
  }
}
