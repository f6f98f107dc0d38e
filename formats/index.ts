/**
 * The file formats mdpipe reads and writes: restricted Python pickles (protocols 2–5 with numpy values),
 * numpy .npy and .npz (zip). Everything here is pure: bytes in, values out (and back). This is the public
 * API of formats/: code outside the folder imports from here, not from the files behind it.
 */
export { FormatError, UnwritableValueError, type FormatErrorReason } from './errors.js';
export { DEFAULT_LIMITS, type ReadLimits } from './limits.js';
export { readPickle, parsePickle } from './pickle/reader.js';
export { writePickle, rawPickle, u32le, PyFloat, type PickleInput, type WritePickleOptions } from './pickle/writer.js';
export { OP } from './pickle/opcodes.js';
export { NpArray, NpDtype, NpScalar, PyTuple, type NpData, type PyDict, type PyKey, type PyValue } from './values.js';
export { readNpy, readNpyObject, writeNpy, type WriteNpyOptions } from './npy.js';
export { readNpz, writeNpz, type ReadNpzOptions, type WriteNpzOptions } from './npz.js';
export { extractZipMember, readZipDirectory } from './zip.js';
