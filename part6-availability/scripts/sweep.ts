// The machinery of a seed sweep that runs one scenario directly, without the test runner: each
// (seed, cluster size) is one run of the scenario, handed out to worker threads (one per core by
// default) as they finish the previous one. A run that throws has failed; the sweep prints it at
// once, with the command that replays it under the test runner and the one that renders its
// timeline, keeps going, and exits 1 at the end. What a run does is the scenario's business
// (scripts/chaos-sweep.ts here; part4-kv's key/value chaos sweep imports this file with a
// scenario of its own).
//
// Each worker loads tsx, then the scenario's module, and runs whatever (seed, size) the main
// thread sends it; the main thread only hands out work and reports. A run may say how live the
// cluster was (src/sim/liveness.ts); the summary then sums that up over all the runs.

import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker } from "node:worker_threads";

/** What a sweep runs, and how a failing run is replayed. */
export interface Scenario {
  /** The package whose scenario this is, e.g. "part3-persistence". */
  part: string;
  /** The package script that runs this sweep, e.g. "test:chaos". */
  script: string;
  /** What one run is, for --help: "the chaos scenario (src/sim/chaos.ts)". */
  what: string;
  /** The cluster sizes each seed runs on, unless --sizes says otherwise. */
  sizes: readonly number[];
  /**
   * Runs the scenario once; throws, first line saying what went wrong, if the run fails. It may
   * return the run's liveness, for the summary.
   */
  run(seed: number, size: number): Promise<RunLiveness | undefined>;
  /** The commands that replay this run alone under the test runner, and render its timeline. */
  replay(seed: number, size: number): { replay: string; timeline: string };
}

/** One run's liveness (src/sim/liveness.ts), as the summary sums it up. */
export interface RunLiveness {
  /** Share of the faults' stretch during which a client's operation could complete, 0 to 1. */
  available: number;
  /** Each recovery's time to a stable serving cluster, in ms; null if it never came. */
  recoveries: (number | null)[];
}

interface Options {
  count: number;
  from: number;
  sizes: number[];
  jobs: number;
}

/** One run handed to a worker. */
interface Job {
  seed: number;
  size: number;
}

/** What a worker says after each run (and once, with no run, when it is ready). */
interface Report {
  job?: Job;
  error?: string;
  liveness?: RunLiveness;
}

interface Failure extends Job {
  error: string;
}

class UsageError extends Error {}

function usage(s: Scenario): string {
  const prog = `pnpm --filter ${s.part} ${s.script}`;
  return `usage: ${prog} [<count>] [--from <seed>] [--sizes <n,n,...>] [--jobs <n>]

Runs ${s.what}
under seeds <from> .. <from>+<count>-1 (default: 1000 seeds from 1), directly, without the test
runner, each on every cluster size of --sizes (default ${s.sizes.join(",")}), spread over --jobs worker threads
(default: one per CPU core, ${availableParallelism()} here). Every check the scenario's test makes is made.
Shows progress as it goes; prints each failing (seed, size) at once with the command that replays
it alone under the test runner and the one that renders its timeline, and all of them again at
the end. Exits 1 if any run failed.

Examples:
  ${prog} 10000                      seeds 1..10000
  ${prog} 2000 --from 10001 --sizes 5`;
}

/** A whole number of at least `min`, or a usage error that says what was wrong. */
function whole(text: string, what: string, min: number): number {
  const n = Number(text);
  if (text.trim() !== "" && Number.isSafeInteger(n) && n >= min) return n;
  throw new UsageError(`${what} must be a whole number of at least ${min}, got "${text}"`);
}

function options(argv: string[], s: Scenario): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: "string", default: "1" },
      sizes: { type: "string", default: s.sizes.join(",") },
      jobs: { type: "string", default: String(availableParallelism()) },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage(s));
    process.exit(0);
  }
  if (positionals.length > 1) throw new UsageError(`one <count> at most, got ${positionals}`);
  return {
    count: whole(positionals[0] ?? "1000", "<count>", 1),
    from: whole(values.from, "--from", 0),
    sizes: values.sizes.split(",").map((n) => whole(n, "each of --sizes", 1)),
    jobs: whole(values.jobs, "--jobs", 1),
  };
}

/**
 * Runs the sweep this process was started for; `scenarioModule` is the URL of the module that
 * exports `scenario` (the caller's `import.meta.url`), which each worker loads.
 */
export async function sweep(scenarioModule: string, s: Scenario): Promise<void> {
  quietOnClosedPipe();
  const prog = `pnpm --filter ${s.part} ${s.script}`;
  let opts: Options;
  try {
    opts = options(
      process.argv.slice(2).filter((a) => a !== "--"),
      s,
    );
  } catch (error) {
    const parseError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false;
    if (!(error instanceof UsageError) && !parseError) throw error;
    console.error(`${prog}: ${(error as Error).message}\nTry '${prog} --help'.`);
    process.exit(2);
  }
  const { failures, seconds, liveness } = await runAll(scenarioModule, s, opts);
  summary(s, opts, failures, seconds);
  if (liveness.length > 0) console.log(livenessLines(liveness));
}

/** The runs of the sweep, seed by seed, every size of a seed before the next seed. */
function* jobs(opts: Options): Generator<Job> {
  for (let seed = opts.from; seed < opts.from + opts.count; seed++) {
    for (const size of opts.sizes) yield { seed, size };
  }
}

async function runAll(
  scenarioModule: string,
  s: Scenario,
  opts: Options,
): Promise<{ failures: Failure[]; seconds: number; liveness: RunLiveness[] }> {
  const todo = jobs(opts);
  const total = opts.count * opts.sizes.length;
  const progress = new Progress(s.part, opts, total);
  const failures: Failure[] = [];
  const liveness: RunLiveness[] = [];
  /** Runs a worker thread dealt back, before any new one. */
  const returned: Job[] = [];
  const crew: Crew = {
    scenarioModule,
    take: () => {
      if (returned.length > 0) return returned.shift();
      const next = todo.next();
      return next.done ? undefined : next.value;
    },
    ended: (job, outcome) => {
      if (outcome.error !== undefined) {
        const failure = { ...job, error: outcome.error };
        failures.push(failure);
        progress.print(failureText(s, failure));
      }
      if (outcome.liveness !== undefined) liveness.push(outcome.liveness);
      progress.done(job, failures.length);
    },
    giveBack: (jobs) => returned.push(...jobs),
  };
  const workers = Math.min(opts.jobs, total);
  await Promise.all(Array.from({ length: workers }, () => work(crew)));
  progress.finish(failures.length);
  return { failures, seconds: progress.seconds(), liveness };
}

/** What the worker threads share: where the jobs come from, and where their ends go. */
interface Crew {
  scenarioModule: string;
  /** The next job to run, if any is left. */
  take: () => Job | undefined;
  /** A run ended: its report, or the error its worker thread died of. */
  ended: (job: Job, outcome: Omit<Report, "job">) => void;
  /** The jobs a dead worker had waiting, to run before any new one. */
  giveBack: (jobs: Job[]) => void;
}

/**
 * One worker: it runs jobs until none is left, with the next one already waiting in its queue
 * so that it never waits for the main thread. A worker that dies fails the run it was on, and
 * a new one takes over.
 */
function work(crew: Crew): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(crew.scenarioModule);
    const sent: Job[] = [];
    const send = () => {
      const job = crew.take();
      if (job === undefined) return;
      sent.push(job);
      worker.postMessage(job);
    };
    worker.on("message", (report: Report) => {
      if (report.job === undefined) {
        send(); // it is ready: one job to run, one to wait in its queue
        send();
      } else {
        sent.shift();
        crew.ended(report.job, report);
        send();
      }
      if (sent.length === 0) void worker.terminate();
    });
    let death = "";
    worker.on("error", (error) => {
      death = firstLine(error);
    });
    worker.on("exit", (code) => {
      const [current, ...queued] = sent;
      if (current === undefined) {
        // Done, or dead before its first run: a new one would die the same way.
        if (death === "") resolve();
        else reject(new Error(`a worker thread died as it started: ${death}`));
        return;
      }
      crew.ended(current, { error: `its worker thread died: ${death || `exit code ${code}`}` });
      crew.giveBack(queued);
      resolve(work(crew));
    });
  });
}

/**
 * A worker thread that loads tsx (the TypeScript loader does not carry over to workers by
 * itself), then this file and the scenario's module, and runs the jobs it is sent.
 */
function startWorker(scenarioModule: string): Worker {
  const load = (url: string) => `import(${JSON.stringify(url)})`;
  const boot = `${load(import.meta.resolve("tsx/esm/api"))}
    .then((tsx) => { tsx.register(); return Promise.all([${load(import.meta.url)}, ${load(scenarioModule)}]); })
    .then(([sweep, module]) => sweep.serve(module.scenario));`;
  return new Worker(boot, { eval: true });
}

/** The worker's side: run each job the main thread sends, and say how it went. */
export function serve(s: Scenario): void {
  if (isMainThread || parentPort === null) throw new Error("serve() runs in a worker thread");
  const port = parentPort;
  const queue: Job[] = [];
  let running = false;
  const runNext = async () => {
    running = true;
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      try {
        const liveness = await s.run(job.seed, job.size);
        port.postMessage({ job, liveness } satisfies Report);
      } catch (error) {
        port.postMessage({ job, error: firstLine(error) } satisfies Report);
      }
    }
    running = false;
  };
  port.on("message", (job: Job) => {
    queue.push(job);
    if (!running) void runNext();
  });
  port.postMessage({} satisfies Report);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

function failureText(s: Scenario, f: Failure): string {
  const { replay, timeline } = s.replay(f.seed, f.size);
  return `seed ${f.seed}, ${f.size} nodes FAILED: ${f.error}\n  replay:   ${replay}\n  timeline: ${timeline}\n`;
}

/**
 * The progress line: seeds and runs done, runs per second, failures and the time left. On a
 * terminal it is rewritten in place (at most a few times a second); otherwise a line is printed
 * every 10 seconds.
 */
class Progress {
  private readonly started = Date.now();
  private runs = 0;
  /** Per seed, how many of its runs are still to come; a seed is done when none is. */
  private readonly runsLeft = new Map<number, number>();
  private seeds = 0;
  private shownAt = 0;
  private shownRuns = -1;
  private readonly tty = process.stdout.isTTY ?? false;
  private readonly part: string;
  private readonly opts: Options;
  private readonly total: number;

  constructor(part: string, opts: Options, total: number) {
    this.part = part;
    this.opts = opts;
    this.total = total;
    const seeds = `seeds ${opts.from}..${opts.from + opts.count - 1}`;
    console.log(
      `${part}: ${seeds} on ${opts.sizes.join(", ")} nodes (${total} runs), ${opts.jobs} worker threads`,
    );
  }

  done(job: Job, failed: number): void {
    this.runs++;
    const left = (this.runsLeft.get(job.seed) ?? this.opts.sizes.length) - 1;
    if (left > 0) this.runsLeft.set(job.seed, left);
    else {
      this.runsLeft.delete(job.seed);
      this.seeds++;
    }
    const now = Date.now();
    if (now - this.shownAt < (this.tty ? 200 : 10_000)) return;
    this.shownAt = now;
    this.show(failed);
  }

  finish(failed: number): void {
    if (this.shownRuns !== this.runs) this.show(failed);
    if (this.tty) process.stdout.write("\n");
  }

  /** Prints `text` above the progress line. */
  print(text: string): void {
    if (this.tty) process.stdout.write("\r\x1b[K");
    process.stdout.write(text);
  }

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  private show(failed: number): void {
    this.shownRuns = this.runs;
    const seconds = this.seconds();
    const rate = this.runs / Math.max(seconds, 0.001);
    const left = (this.total - this.runs) / Math.max(rate, 1e-9);
    const line =
      `${this.part}: ${this.seeds}/${this.opts.count} seeds, ${this.runs}/${this.total} runs, ` +
      `${rate.toFixed(1)} runs/s, ${failed} failed, ${clock(seconds)} elapsed` +
      (this.runs < this.total ? `, ETA ${clock(left)}` : "");
    if (this.tty) process.stdout.write(`\r\x1b[K${line}`);
    else console.log(line);
  }
}

/** 75 → "1:15", 3725 → "1:02:05". */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function summary(s: Scenario, opts: Options, failures: Failure[], seconds: number): void {
  const seeds = `seeds ${opts.from}..${opts.from + opts.count - 1} on ${opts.sizes.join(", ")} nodes`;
  const runs = opts.count * opts.sizes.length;
  console.log(cpuLine(runs, seconds));
  if (failures.length === 0) {
    console.log(`all ${runs} runs passed (${seeds}) in ${clock(seconds)}`);
    return;
  }
  console.log(`\n${failures.length} of ${runs} runs failed (${seeds}, ${clock(seconds)}):`);
  failures.sort((a, b) => a.seed - b.seed || a.size - b.size);
  for (const f of failures) {
    console.log(
      `  seed ${f.seed}, ${f.size} nodes: ${f.error}\n    ${s.replay(f.seed, f.size).replay}`,
    );
  }
  process.exitCode = 1;
}

/**
 * The runs' liveness summed up: the share of time a client's operation could complete (mean and
 * lowest), and the time from each heal, reconnection or lost leader to a stable leader that
 * commits (median and longest), with the runs in which one of them never came.
 */
export function livenessLines(runs: readonly RunLiveness[]): string {
  const shares = runs.map((r) => r.available);
  const mean = shares.reduce((sum, a) => sum + a, 0) / shares.length;
  const lowest = shares.reduce((min, a) => Math.min(min, a), 1);
  const times = runs.flatMap((r) => r.recoveries.filter((ms) => ms !== null));
  times.sort((a, b) => a - b);
  const median = times.length === 0 ? "-" : `${times[Math.floor((times.length - 1) / 2)]} ms`;
  const longest = times.length === 0 ? "-" : `${times[times.length - 1]} ms`;
  const unrecovered = runs.filter((r) => r.recoveries.includes(null)).length;
  const percent = (a: number) => `${(a * 100).toFixed(1)}%`;
  return (
    `liveness over ${runs.length} runs: available ${percent(mean)} of the faults' time on average, ` +
    `${percent(lowest)} at the lowest; ${times.length} recoveries to a stable leader, ` +
    `median ${median}, longest ${longest}; ${unrecovered} runs with a recovery that never came`
  );
}

/**
 * What the sweep cost in CPU time (all its threads), per run, and how busy the machine was: on a
 * machine busy with other work the wall time says little, the CPU time per run stays the same.
 */
function cpuLine(runs: number, seconds: number): string {
  const { user, system } = process.cpuUsage();
  const cpu = (user + system) / 1e6;
  const cores = availableParallelism();
  return (
    `CPU time ${clock(cpu)} (${((1000 * cpu) / runs).toFixed(1)} ms per run), ` +
    `${(cpu / Math.max(seconds, 0.001)).toFixed(2)} of ${cores} cores on average; ` +
    `load average ${loadavg()[0]!.toFixed(1)}`
  );
}

/** `| head` closes the pipe early: stop quietly, as a shell tool does. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
  }
}
