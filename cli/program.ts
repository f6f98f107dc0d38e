/**
 * The verbs, their options, help texts and examples (commander@14). Each action imports its verb's module
 * when it runs, so `mdpipe --help` loads commander and nothing else.
 *
 * Every example in a help text is run as written by test/cli/help-examples.test.ts, in a folder holding a
 * `mdpipe.config.json` for small basic and noisy trees: keep them runnable there.
 */
import { Command, Option } from 'commander';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { LOG_FORMATS } from './logger.js';
import { addSharedCacheOptions } from './shared-cache.js';
import { createSession, LOG_LEVELS, type GlobalOptions, type Session } from './session.js';
import { age, positiveInt, size, wholeNumber } from './units.js';
import { toolVersion } from './version.js';

/** What an action reports back to `main`. */
export interface ProgramState {
  code: number;
}

const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

const CONFIG_HELP = `Configuration: --config FILE, else ./mdpipe.config.json if present, else the built-in default
(pretrained_model_collections/basic_collection and .../noisy_collection, published axes). Paths in a
file are relative to the file.`;

const TASK_IDS_HELP =
  'Task ids: parse:<collection>/bs<bs>-w<width>-d<data> (one per checkpoint folder, e.g. parse:basic/bs16-w2-d10), ' +
  'then grid:<collection>, rfi:<collection>, label:<collection>, export:<collection>. A target may be a glob: * matches ' +
  "within a segment, ** anything ('parse:basic/*', 'parse:basic/bs16-*', '*:noisy', 'export:*'). Quote globs so the " +
  'shell leaves them alone.';

export function buildProgram(argv: readonly string[], state: ProgramState): Command {
  const session = (command: Command): Session => createSession(command.optsWithGlobals() as GlobalOptions, argv);

  const program = new Command('mdpipe')
    .description(
      'Builds the Model Diagnosis Dataset (MD tree, ICML 2024) from raw loss-landscape metric files: one task ' +
        'per checkpoint folder, then grid, room for improvement, labels and export per collection. Only what ' +
        'changed is rebuilt: results are cached by the content of their inputs, never by modification time.',
    )
    .version(toolVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (default: ./mdpipe.config.json if present, else the built-in default)')
    .addOption(
      new Option('--log-format <format>', 'log format on stderr: plain human lines (default), json lines for machines, or pretty (pino-pretty)')
        .choices(LOG_FORMATS)
        .env('MDPIPE_LOG_FORMAT'),
    )
    .addOption(new Option('--log-level <level>', 'log level (default: info)').choices(LOG_LEVELS))
    .option('-q, --quiet', 'only warnings and errors: no progress, no summary unless something failed')
    .option('--debug', 'debug logs, and the stack of an internal error (also MDPIPE_DEBUG=1)')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples([
        'mdpipe demo      # synthesize a demo tree into ./demo and build it (what npm start runs)',
        'mdpipe run       # build what changed',
        'mdpipe status    # what is fresh, what is stale, and why',
      ]) +
        `\n${CONFIG_HELP}\n\nRun \`mdpipe <command> --help\` for a command's options and examples.\n\n${EXIT_CODES_HELP}\n`,
    );

  program
    .command('demo')
    .summary('build the demo (what npm start runs): synthesizes ./demo the first time')
    .description(
      'What `npm start` runs. With a configuration (--config, ./mdpipe.config.json) or a raw tree in ' +
        './pretrained_model_collections/, builds that. Otherwise writes a synthetic raw tree of both collections ' +
        'to ./demo/ with demo/mdpipe.config.json (once), builds it, and says where the outputs are. Running it ' +
        'again finds everything fresh and does nothing.',
    )
    .addOption(new Option('--axes <axes>', 'configurations to synthesize: full (13 x 13 x 10 per collection) or small (3 x 3 x 2)').choices(['full', 'small']).default('full').env('MDPIPE_DEMO_AXES'))
    .option('--dir <folder>', 'where the demo tree, its config, outputs and cache go', 'demo')
    .option('--json', 'print one JSON run summary on stdout and nothing else')
    .option('-j, --jobs <n>', 'tasks run at once (default: the number of cores)', positiveInt)
    .option('--no-progress', 'no progress bar (a progress line every 2 s instead)')
    .addHelpText('after', examples(['mdpipe demo                # full axes: 2 x 1,690 folders, about 25 s the first time on 2 cores', 'mdpipe demo --axes small   # 2 x 18 folders: a few seconds']))
    .action(async (options, command: Command) => {
      const { demoCommand } = await import('./commands/demo.js');
      state.code = await demoCommand(session(command), options);
    });

  addSharedCacheOptions(program.command('run'), 'run')
    .summary('build the targets (default: everything) and what they need, skipping what is fresh')
    .description(
      'Builds the targets (default: every task) and the stale upstream they need. A task re-runs only when ' +
        'something in its key changed: the content of an input file (modification times only decide whether ' +
        'to re-hash), a parameter, its code version, or the output of a task it depends on. A task whose ' +
        're-run gives the same output leaves its downstream fresh. ' +
        'Outputs go to <outDir>/<collection>/: dataframe.csv, dictionary.json, grid.npz, report.json.\n\n' +
        TASK_IDS_HELP,
    )
    .argument('[targets...]', 'task ids or globs (default: every task)')
    .option('-f, --force', 're-run the targets (every task without targets) even if fresh; their upstream still comes from the cache')
    .option('-n, --dry-run', 'print what would run and why, from the same planner as a real run; run and write nothing')
    .option('--json', 'print one JSON summary on stdout ({ok, durationMs, executed, cached, failed, skipped, tasks}) and nothing else')
    .option('-j, --jobs <n>', 'tasks run at once (default: "jobs" in the config, else the number of cores)', positiveInt)
    .option('--wait', 'if another run holds the cache lock, wait for it instead of failing with exit code 1')
    .option('--fail-fast', 'start no new task after the first failure (tasks already running finish and are kept); by default every task that does not need the failed one still runs')
    .option('--no-progress', 'no progress bar (a progress line every 2 s instead)')
    .option('--queue <url>', 'send checkpoint (parse) tasks, in batches, to workers on this Redis (`mdpipe worker --queue URL`); the rest runs here')
    .addHelpText(
      'after',
      examples([
        "mdpipe run                          # everything that changed",
        'mdpipe run export:basic             # one collection\'s outputs, and what they need',
        "mdpipe run 'parse:basic/bs16-*'     # the batch-size-16 checkpoint folders of basic",
        'mdpipe run --dry-run                # what would run and why; runs and writes nothing',
        'mdpipe run --force grid:basic       # re-run grid:basic although it is fresh',
        'mdpipe run --json > summary.json    # one JSON summary on stdout; logs stay on stderr',
        'mdpipe run --jobs 2 --wait          # two tasks at a time; queue behind another run',
        'mdpipe run --fail-fast              # stop starting tasks at the first failure',
      ]) +
        `\nCtrl-C stops starting tasks, lets running ones finish and keeps their results; run again to continue.\nA second Ctrl-C quits at once.\n\n${EXIT_CODES_HELP}\n`,
    )
    .action(async (targets: string[], options, command: Command) => {
      const { runCommand } = await import('./commands/run.js');
      state.code = await runCommand(session(command), targets, options);
    });

  addSharedCacheOptions(program.command('watch'), 'run')
    .summary('build, then rebuild what changed as raw files land (until Ctrl-C)')
    .description(
      'Builds like `run`, then watches every collection\'s raw folder and rebuilds what changed once a ' +
        'changed checkpoint folder has been quiet for --quiet-ms. A file still being written (truncated, or ' +
        'changing while read) is reported as waiting and retried, not as a failure; past the quiet period a ' +
        'broken file is a failure, as in `run`. New folders (a new data fraction, say) are picked up; a deleted ' +
        'folder leaves the dataset. Holds the cache lock while it runs: a concurrent `mdpipe run` is refused, ' +
        'naming this process.\n\n' +
        TASK_IDS_HELP,
    )
    .argument('[targets...]', 'task ids or globs to build each time (default: every task)')
    .option('--quiet-ms <n>', 'rebuild a changed folder once it has had no change for this long', wholeNumber, 2000)
    .option('--json', 'print one JSON line per build on stdout: the `run --json` object, plus "waiting" (tasks with status "waiting")')
    .option('-j, --jobs <n>', 'tasks run at once (default: "jobs" in the config, else the number of cores)', positiveInt)
    .option('--wait', 'if another run holds the cache lock, wait for it instead of failing with exit code 1')
    .option('--no-progress', 'no progress bar for the first build (rebuilds never draw one)')
    .addHelpText(
      'after',
      examples([
        'mdpipe watch                        # build, then rebuild as checkpoint folders land; Ctrl-C stops',
        'mdpipe watch --quiet-ms 5000        # wait for 5 s without a change before rebuilding a folder',
        'mdpipe watch --json > builds.jsonl  # one JSON summary per build',
      ]) +
        `\nCtrl-C stops it: between builds at once (exit 0), during one once running tasks finish and are stored\n(exit 130).\n\n${EXIT_CODES_HELP}\n`,
    )
    .action(async (targets: string[], options, command: Command) => {
      const { watchCommand } = await import('./commands/watch.js');
      state.code = await watchCommand(session(command), targets, options);
    });

  addSharedCacheOptions(program.command('status'), 'read')
    .summary('which tasks are fresh and which are stale, and why')
    .description(
      'Lists every task (or the targets and their upstream) as fresh or stale with the reason, from the same ' +
        'planner as `run`. Checkpoint tasks are grouped: "parse:basic/*  1,688 fresh · 2 stale", the stale ones ' +
        'listed under it (the first 10; --all lists every task). Reads only: safe while a run is going.\n\n' +
        TASK_IDS_HELP,
    )
    .argument('[targets...]', 'task ids or globs (default: every task)')
    .option('--all', 'list every task, fresh ones too')
    .option('--json', 'print {fresh, stale, groups, tasks: [{id, kind, state, reason}]} on stdout')
    .addHelpText('after', examples(['mdpipe status', "mdpipe status 'parse:noisy/*' --all   # every checkpoint task of noisy, one line each", 'mdpipe status --json > status.json']))
    .action(async (targets: string[], options, command: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      state.code = await statusCommand(session(command), targets, options);
    });

  addSharedCacheOptions(program.command('explain'), 'read')
    .summary('why a task would re-run, field by field')
    .description(
      'Compares what a task\'s stored result was built from with the current state, field by field: each ' +
        'changed input file with its old and new SHA-256, parameters, code version, upstream outputs. Then the ' +
        'stored result\'s provenance (key, when, how long, mdpipe version, files it published). Reads only.',
    )
    .argument('<task>', 'a task id, e.g. grid:basic or parse:basic/bs16-w2-d10 (`mdpipe status --all` lists them)')
    .option('--json', 'print the explanation as JSON')
    .addHelpText('after', examples(['mdpipe explain grid:basic', 'mdpipe explain parse:basic/bs16-w2-d10', 'mdpipe explain export:noisy --json']))
    .action(async (task: string, options, command: Command) => {
      const { explainCommand } = await import('./commands/explain.js');
      state.code = await explainCommand(session(command), task, options);
    });

  program
    .command('graph')
    .summary('print the task graph (text, dot, mermaid, json) or draw it (svg, html)')
    .description(
      'Prints the task graph. text, dot and mermaid show the kind graph, checkpoint tasks folded into one ' +
        'node per collection ("parse:basic/* (1,690)"), unless --full; json lists every task and edge as ' +
        '{"nodes": [{"id", "kind"}], "edges": [{"source", "target"}]} (edges run upstream to downstream). ' +
        'With targets, only they and their upstream. Needs the raw tree (discovery), not the cache.',
    )
    .argument('[targets...]', 'only these task ids or globs and their upstream')
    .addOption(new Option('--format <format>', 'output format (svg, html: drawn by Graphviz, nodes coloured fresh/stale/failed)').choices(['text', 'dot', 'mermaid', 'json', 'svg', 'html']).default('text'))
    .option('--full', 'every task instead of the kind graph (text, dot, mermaid)')
    .option('--max-nodes <n>', 'largest --full graph drawn; above it the kind graph is shown with a hint', positiveInt, 500)
    .addHelpText(
      'after',
      examples([
        'mdpipe graph                                  # the kind graph as text',
        'mdpipe graph --format mermaid > graph.mmd     # paste into Markdown (GitHub renders it)',
        'mdpipe graph --format dot > graph.dot         # then: dot -Tsvg graph.dot > graph.svg (Graphviz)',
        'mdpipe graph --format json > graph.json       # every task and edge',
        'mdpipe graph --format svg > graph.svg         # drawn, nodes coloured by status (fresh, stale, failed)',
        'mdpipe graph --format html > graph.html       # the same drawing as a page that opens from disk',
        'mdpipe graph --full --max-nodes 2000 export:basic   # every task export:basic needs (1,694 on the demo)',
      ]),
    )
    .action(async (targets: string[], options, command: Command) => {
      const { graphCommand } = await import('./commands/graph.js');
      state.code = await graphCommand(session(command), targets, options);
    });

  program
    .command('worker')
    .summary('run checkpoint tasks for `mdpipe run --queue` (BullMQ on Redis)')
    .description(
      'Takes batches of checkpoint (parse) tasks from the queue on Redis and runs them for coordinators ' +
        '(`mdpipe run --queue URL`). Needs no configuration: each job names its folders, which must be at the ' +
        'same absolute paths here (a shared file system). Refuses jobs from another mdpipe or code version. ' +
        'SIGTERM or Ctrl-C stops it after its running jobs; a worker killed outright has its jobs re-queued to ' +
        'other workers within about 15 s.',
    )
    .requiredOption('--queue <url>', 'the Redis holding the queue: redis://[:password@]host:port[/db] or rediss://…')
    .option('--concurrency <n>', 'jobs run at once (each a batch of up to 32 tasks); one per core is the useful most', positiveInt, 1)
    .addHelpText('after', examples(['mdpipe worker --queue redis://:secret@queue.example:6379/0 --concurrency 2', 'mdpipe run --queue redis://:secret@queue.example:6379/0 --json   # on the coordinator']))
    .action(async (options, command: Command) => {
      const { workerCommand } = await import('./commands/worker.js');
      state.code = await workerCommand(session(command), options);
    });

  program
    .command('synth')
    .summary('write a synthetic raw tree in the real file format')
    .description(
      'Writes a raw tree in the real format: one folder of six metric files (pickles and an .npz, as the ' +
        'loss_landscape_taxonomy code writes them) per configuration, in the collection\'s layout. Values come ' +
        'from a built-in model of the published collections, or reproduce a published grid (--grid) so that ' +
        '`mdpipe run` gives back its dataframe. Deterministic: the same options write the same bytes. ' +
        'Prints the configuration that builds the tree, or adds it to a config file with --config-out.',
    )
    .requiredOption('-o, --out <dir>', 'the raw folder to write (created if needed; existing metric files are overwritten)')
    .option('--grid <file.npy>', 'reproduce a published grid (e.g. metric_grid_13_13_10_public.npy) instead of the model')
    .addOption(new Option('--collection <name>', 'which collection: its folder layout and label noise').choices(['basic', 'noisy']).default('basic'))
    .addOption(new Option('--axes <axes>', 'full: 13 bs x 13 widths x 10 data fractions (the grid\'s with --grid); small: 3 x 3 x 2').choices(['full', 'small']).default('full'))
    .option('--seed <n>', 'random seed: another seed, other (equally plausible) values', wholeNumber, 0)
    .option('--config-out <file>', 'add the collection to this config file (created if absent; other collections are kept)')
    .option('--no-progress', 'no progress bar (a progress line every 2 s instead)')
    .addHelpText(
      'after',
      examples([
        'mdpipe synth --out raw/basic --axes small --config-out mdpipe.config.json',
        'mdpipe synth --out raw/noisy --collection noisy --axes small --config-out mdpipe.config.json',
        'mdpipe synth --out raw/from-grid --grid metric_grid_13_13_10_public.npy --axes small',
      ]) + '\nWithout --axes small, a collection is 1,690 folders (about 19 MB; 7 s on 2 cores).\n',
    )
    .action(async (options, command: Command) => {
      const { synthCommand } = await import('./commands/synth.js');
      state.code = await synthCommand(session(command), options);
    });

  program
    .command('clean')
    .summary('empty the cache (and with --outputs, delete the outputs it wrote)')
    .description(
      'Empties the cache store: the next run rebuilds everything. With --outputs, also deletes the output ' +
        'files the cache recorded, except those edited since they were written, the run pages (index.html, ' +
        'last-run.json, graph.svg, graph.dot) and the folders that leaves empty; files of your own in the output ' +
        'folder stay. Needs neither the raw tree nor the graph. Takes the cache lock like `run`.',
    )
    .option('--outputs', 'also delete the output files mdpipe wrote (edited ones are kept and listed)')
    .option('--wait', 'wait for a run holding the cache lock instead of failing')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', examples(['mdpipe clean              # forget every cached result; the outputs stay', 'mdpipe clean --outputs    # also delete the outputs mdpipe wrote']))
    .action(async (options, command: Command) => {
      const { cleanCommand } = await import('./commands/clean.js');
      state.code = await cleanCommand(session(command), options);
    });

  const cache = program
    .command('cache')
    .summary('cache housekeeping: size (info) and garbage collection (gc)')
    .description(
      'The cache is a SQLite file in cacheDir (default .mdpipe/ next to the config): one record per task ' +
        '(what its result was built from) and content-addressed blobs (results and output files).',
    )
    .addHelpText(
      'after',
      examples(['mdpipe cache info', 'mdpipe cache gc                                 # drop results no current task uses', 'mdpipe cache gc --max-size 500MB --max-age 30d', 'mdpipe cache gc --dry-run']),
    );

  cache
    .command('info')
    .summary('how many results the cache holds, and its size')
    .description('How many results and blobs the cache holds, their size, and its size on disk.')
    .option('--json', 'print {cacheDir, records, blobs, bytes, bytesOnDisk} as JSON')
    .addHelpText('after', examples(['mdpipe cache info', 'mdpipe cache info --json']))
    .action(async (options, command: Command) => {
      const { cacheInfoCommand } = await import('./commands/cache.js');
      state.code = await cacheInfoCommand(session(command), options);
    });

  cache
    .command('gc')
    .summary('drop results no current task uses, then apply --max-size and --max-age')
    .description(
      'Garbage collection: deletes the results of tasks the current graph does not have (a collection removed ' +
        'from the config, folders deleted from the raw tree), then, if limits are given, results unused for longer ' +
        'than --max-age and the least recently used ones until the blobs fit in --max-size. Blobs no remaining ' +
        'result names go with them. Needs the graph (the set to keep), so the raw tree must be there.',
    )
    .option('--max-size <size>', 'keep at most this much (500MB, 2GB, 1GiB)', size)
    .option('--max-age <age>', 'drop results not used for this long (30d, 12h, 2w)', age)
    .option('-n, --dry-run', 'report what would be deleted; delete nothing')
    .option('--wait', 'wait for a run holding the cache lock instead of failing')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', examples(['mdpipe cache gc', 'mdpipe cache gc --max-size 500MB --max-age 30d', 'mdpipe cache gc --dry-run --json']))
    .action(async (options, command: Command) => {
      const { cacheGcCommand } = await import('./commands/cache.js');
      state.code = await cacheGcCommand(session(command), options);
    });

  return program;
}
