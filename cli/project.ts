/**
 * The composition root: the configuration, the cache store and the engine, as the verbs open them. The
 * engine is given its store here (SQLite in the cache directory, set aside and replaced when damaged); it
 * does not import one. Imported lazily by the verbs that need them
 * (loading the config schema and the engine costs a few hundred milliseconds that `--help` and `synth`
 * should not pay).
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Engine, EngineListener, EngineOptions, PipelineDefinition } from '../pipeline/index.js';
import { openDefaultStore, replaceDamagedStore } from '../cache/default-store.js';
import { loadConfig } from '../config/load.js';
import { openEngine } from '../pipeline/index.js';
import { defineDataset } from '../tasks/index.js';
import { summarizeChanges } from './change-text.js';
import type { Session } from './session.js';
import { openChosenTier, type SharedCacheFlags, type SharedCacheMode } from './shared-cache.js';
import { toolVersion } from './version.js';

/**
 * `--config FILE`, else `./mdpipe.config.json`, else the built-in default.
 * @param allowMissingInputs for verbs that only touch the cache (`clean`, `cache info`): the raw folders
 *   need not exist
 * @throws ConfigError naming the key, the problem and the fix
 */
export function loadProjectConfig(session: Session, options: { allowMissingInputs?: boolean; cwd?: string } = {}): ResolvedConfig {
  return loadConfig({ configPath: session.globals.config, cwd: options.cwd, allowMissingInputs: options.allowMissingInputs });
}

export interface OpenOptions {
  jobs?: number;
  /**
   * The engine's events. The CLI renders them itself (cli/run-reporter.ts: a progress bar, and the engine's
   * `logEvent` with lower levels for per-task lines) rather than handing the engine its logger, whose
   * per-task info lines would bury a 3,000-task run.
   */
  onEvent?: EngineListener;
  /**
   * Open over an empty graph, for verbs that read or empty the store without the graph (`clean`,
   * `cache info`): no discovery, so they work even when the raw tree is gone.
   */
  withoutGraph?: boolean;
  /** Use the shared cache if one is configured (cli/shared-cache.ts): `run` writes through, `read` only looks. */
  shared?: { mode: SharedCacheMode; flags?: SharedCacheFlags };
  /** Changes the task definitions before discovery (`run --queue` sends partition tasks to workers). */
  wrapDefinition?: (definition: PipelineDefinition) => PipelineDefinition;
  /** What a long-lived caller (`watch`) sets itself: a wrapped definition, its own store, the lock it holds. */
  engine?: Partial<Pick<EngineOptions, 'definition' | 'store' | 'heldLock'>>;
}

const EMPTY_DEFINITION: PipelineDefinition = { partitioned: [], tasks: [] };

/** Discovers the dataset's tasks from the configuration and opens the engine on them. */
export async function openProject(session: Session, config: ResolvedConfig, options: OpenOptions = {}): Promise<Engine> {
  // Verbs without a reporter still show the engine's warnings (a lock lost while held, say).
  const onEvent: EngineListener = options.onEvent ?? ((event) => event.type === 'warning' && session.terminal.err(`warning: ${event.message}\n`));
  const opened = options.shared && (await openChosenTier(config, options.shared.flags ?? {}, options.shared.mode, (message) => onEvent({ type: 'warning', message })));
  // One composition for the first store and for the one that replaces a damaged cache.sqlite, so the
  // replacement keeps the shared tier. The engine opens, owns and closes both; the tier is closed here.
  const tier = opened?.storeTier;
  const engine = await openEngine({
    definition: options.withoutGraph ? EMPTY_DEFINITION : (options.wrapDefinition ?? ((d) => d))(defineDataset(config)),
    cacheDir: config.cacheDir,
    openStore: () => openDefaultStore(config.cacheDir, tier),
    replaceDamagedStore: (store, error) => replaceDamagedStore(config.cacheDir, store, error, tier),
    outDir: config.outDir,
    jobs: options.jobs ?? config.jobs,
    onEvent,
    toolVersion: toolVersion(),
    describeChanges: summarizeChanges,
    lock: { command: session.command },
    // MDPIPE_OFFLOAD=0: everything on one thread; =N: the second thread from N parses on (README, "Selective
    // runs"); otherwise the engine decides.
    ...(/^\d+$/.test(process.env.MDPIPE_OFFLOAD ?? '') ? { offload: Number(process.env.MDPIPE_OFFLOAD) } : {}),
    ...options.engine,
  }).catch(async (error: unknown) => {
    await opened?.redis.close();
    throw error;
  });
  if (opened) {
    const closeEngine = engine.close.bind(engine);
    engine.close = async () => {
      await closeEngine();
      await opened.redis.close();
      if (session.globals.debug) session.terminal.err(`shared cache ${opened.redis.url.display}: ${JSON.stringify(opened.redis.stats)}\n`);
    };
  }
  return engine;
}
