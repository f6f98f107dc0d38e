/**
 * `import(specifier)` for ES-module packages (vega, vega-lite, @hpcc-js/wasm-graphviz) that works in the
 * bundle too. bin/mdpipe.js runs the bundle as a `vm.Script` with a V8 code cache, and Node 20 loses a
 * script's dynamic-import callback when its code cache was recorded in another process ("A dynamic import
 * callback was not specified", reproduced with a two-process test), so the bundle cannot `import()`
 * itself. bin/mdpipe.js, a real ES module, hands over its own `import` as `globalThis.__mdpipeImport`;
 * the plain tsc output (tests, `--debug`) imports directly.
 */
type Importer = (specifier: string) => Promise<unknown>;

export function importEsm<T>(specifier: string): Promise<T> {
  const viaShim = (globalThis as { __mdpipeImport?: Importer }).__mdpipeImport;
  return (viaShim ? viaShim(specifier) : import(specifier)) as Promise<T>;
}
