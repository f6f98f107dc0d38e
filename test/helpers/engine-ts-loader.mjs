// Lets `node --import ./test/helpers/engine-ts-loader.mjs script.ts` run this project's TypeScript
// sources directly (Node 20 cannot strip types itself), so child-process tests exercise the same code
// jest does rather than a `dist/` build that may be stale. The hooks live in engine-ts-hooks.mjs.
import { register } from 'node:module';

register('./engine-ts-hooks.mjs', import.meta.url);
