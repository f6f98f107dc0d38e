/**
 * Fast decoding of short ASCII byte runs (dict keys, zip member names, .npy headers, pickle GLOBAL names).
 * Node 20's TextDecoder costs microseconds per call for such inputs, which dominated reading a checkpoint
 * folder; this returns null for non-ASCII input so callers fall back to a real decoder.
 */
export function asciiOrNull(bytes: Uint8Array, start: number, end: number): string | null {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return null;
    s += String.fromCharCode(c);
  }
  return s;
}
