// What the parts' test files import from "vitest", for running them in the playground: the build
// bundles each part's real test files with "vitest" resolved to this file. Declaring a test only
// records it (with its file and its full name as vitest gives it: describe names and test name
// joined by " > "); scenarios.ts runs the one the reader picks, as vitest's runner would: the
// body, then its onTestFinished hooks (last registered first), then, if it failed, its
// onTestFailed hooks, and `test.fails` turns the verdict round. `expect` is vitest's own
// (@vitest/expect on chai, set up as vitest sets it up), so every matcher means what it means
// under vitest; toMatchFileSnapshot compares with the file as the build embedded it.

import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  chai,
  customMatchers,
  getState,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
} from "@vitest/expect";
import { readEmbedded } from "../shims/fs.ts";
import { dirname, resolve } from "../shims/path.ts";

export interface TaskContext {
  task: {
    name: string;
    meta: Record<string, unknown>;
    result?: { state: "run" | "pass" | "fail"; errors?: { message: string }[] };
  };
}

type Body = (context: TaskContext) => unknown;
type Hook = (context: TaskContext) => unknown;

export interface DeclaredTest {
  /** From the repository root, as vitest reports it. */
  file: string;
  /** describe names and the test's name joined by " > ", as expect.getState() gives it. */
  name: string;
  body: Body;
  fails: boolean;
  skip: boolean;
  /** beforeEach and afterEach hooks of the describe blocks around it, outermost first. */
  beforeEach: Hook[];
  afterEach: Hook[];
}

interface Collecting {
  file: string;
  suites: string[];
  hooks: { before: Hook[]; after: Hook[] }[];
  tests: DeclaredTest[];
}

let collecting: Collecting | null = null;

/** Records the tests a file declares while `load` evaluates it. */
export async function collect(file: string, load: () => Promise<unknown>): Promise<DeclaredTest[]> {
  collecting = { file, suites: [], hooks: [{ before: [], after: [] }], tests: [] };
  try {
    await load();
    return collecting.tests;
  } finally {
    collecting = null;
  }
}

function collector(what: string): Collecting {
  if (collecting === null) throw new Error(`${what} outside the collection of a test file`);
  return collecting;
}

export function describe(name: string, body: () => unknown): void {
  const c = collector("describe");
  c.suites.push(name);
  c.hooks.push({ before: [], after: [] });
  try {
    const result = body();
    if (result instanceof Promise)
      throw new Error(`describe("${name}") must declare its tests synchronously`);
  } finally {
    c.suites.pop();
    c.hooks.pop();
  }
}

function declare(name: string, args: unknown[], flags: { fails?: boolean; skip?: boolean }): void {
  const c = collector("test");
  // test(name, body), test(name, body, timeout) and test(name, options, body)
  const body = (typeof args[0] === "function" ? args[0] : args[1]) as Body | undefined;
  c.tests.push({
    file: c.file,
    name: [...c.suites, name].join(" > "),
    body: body ?? (() => {}),
    fails: flags.fails ?? false,
    skip: (flags.skip ?? false) || body === undefined,
    beforeEach: c.hooks.flatMap((h) => h.before),
    afterEach: c.hooks.flatMap((h) => h.after).reverse(),
  });
}

/**
 * A name of test.each or test.for, as vitest writes it: %s %i %d %f %j %o (the case's values in
 * turn), %# its index, %$ its number, %% a percent sign.
 */
export function formatName(template: string, values: readonly unknown[], index: number): string {
  let next = 0;
  return template.replace(/%[sidfjoO#$%]/g, (spec) => {
    if (spec === "%%") return "%";
    if (spec === "%#") return String(index);
    if (spec === "%$") return String(index + 1);
    if (next >= values.length) return spec;
    const value = values[next++];
    if (spec === "%i") return String(Math.trunc(Number(value)));
    if (spec === "%d" || spec === "%f") return String(Number(value));
    if (spec === "%s")
      return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
    return JSON.stringify(value);
  });
}

/** test.each (a case's values are the body's arguments) and test.for (the case is one argument). */
function table(spread: boolean) {
  return (cases: readonly unknown[]) =>
    (template: string, ...args: unknown[]) => {
      cases.forEach((c, i) => {
        const values = Array.isArray(c) ? c : [c];
        const body = (typeof args[0] === "function" ? args[0] : args[1]) as (
          ...a: unknown[]
        ) => unknown;
        const run = (context: TaskContext) => (spread ? body(...values) : body(c, context));
        declare(formatName(template, values, i), [run], {});
      });
    };
}

export const test = Object.assign((name: string, ...args: unknown[]) => declare(name, args, {}), {
  fails: (name: string, ...args: unknown[]) => declare(name, args, { fails: true }),
  skip: (name: string, ...args: unknown[]) => declare(name, args, { skip: true }),
  todo: (name: string) => declare(name, [], { skip: true }),
  each: table(true),
  for: table(false),
});
export const it = test;

export function beforeEach(hook: Hook): void {
  collector("beforeEach").hooks.at(-1)!.before.push(hook);
}

export function afterEach(hook: Hook): void {
  collector("afterEach").hooks.at(-1)!.after.push(hook);
}

/** Values vitest's config provides (the seed sweep's seeds): none here. */
export function inject(_key: string): undefined {
  return undefined;
}

// ---- Running one test ----

interface Running {
  finished: Hook[];
  failed: Hook[];
}

let running: Running | null = null;

export function onTestFinished(hook: Hook): void {
  if (running === null) throw new Error("onTestFinished outside a running test");
  running.finished.push(hook);
}

export function onTestFailed(hook: Hook): void {
  if (running === null) throw new Error("onTestFailed outside a running test");
  running.failed.push(hook);
}

export interface TestOutcome {
  state: "pass" | "fail";
  errors: string[];
  /** `test.fails`: the verdict was turned round. */
  expectedToFail: boolean;
}

/** Runs one declared test as vitest's runner does; the test's file is at /repo/<file>. */
export async function runDeclared(t: DeclaredTest): Promise<TestOutcome> {
  expect.setState({
    assertionCalls: 0,
    currentTestName: t.name,
    testPath: `/repo/${t.file}`,
  });
  const context: TaskContext = { task: { name: t.name, meta: {} } };
  const result: NonNullable<TaskContext["task"]["result"]> = { state: "run", errors: [] };
  context.task.result = result;
  const fail = (error: unknown) => {
    result.state = "fail";
    result.errors!.push({ message: error instanceof Error ? error.message : String(error) });
  };
  const mine: Running = { finished: [], failed: [] };
  running = mine;
  try {
    for (const hook of t.beforeEach) await hook(context);
    await t.body(context);
    if (result.state !== "fail") result.state = "pass";
  } catch (error) {
    fail(error);
  } finally {
    running = null;
  }
  const calls = async (hooks: Hook[]) => {
    for (const hook of hooks) {
      try {
        await hook(context);
      } catch (error) {
        fail(error);
      }
    }
  };
  await calls(t.afterEach);
  await calls(mine.finished.slice().reverse());
  if (result.state === "fail") await calls(mine.failed.slice().reverse());
  const errors = result.errors!.map((e) => e.message);
  const passed = result.state === "pass";
  if (t.fails) {
    return passed
      ? { state: "fail", errors: ["Expect test to fail"], expectedToFail: true }
      : { state: "pass", errors, expectedToFail: true };
  }
  return { state: passed ? "pass" : "fail", errors, expectedToFail: false };
}

// ---- expect: vitest's, assembled as vitest assembles it (without snapshots and spies) ----

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type ExpectFn = ((value: unknown, message?: string) => Chai.Assertion) & {
  getState(): { currentTestName?: string; testPath?: string; assertionCalls: number };
  setState(state: Record<string, unknown>): void;
  extend(matchers: Record<string, unknown>): void;
} & Record<string, unknown>;

export const expect = ((value: unknown, message?: string) => {
  const { assertionCalls } = getState(expect as never) as { assertionCalls: number };
  setState({ assertionCalls: assertionCalls + 1 }, expect as never);
  return chai.expect(value, message);
}) as ExpectFn;
Object.assign(expect, chai.expect);
Object.assign(expect, (globalThis as Record<symbol, unknown>)[ASYMMETRIC_MATCHERS_OBJECT]);
expect.getState = () => getState(expect as never);
expect.setState = (state) => setState(state, expect as never);
expect.extend = (matchers) =>
  (chai.expect as unknown as { extend: (e: unknown, m: unknown) => void }).extend(expect, matchers);
expect.extend(customMatchers as Record<string, unknown>);
expect.extend({
  /** vitest's file snapshot: the text must equal the file the build embedded, read from the test's folder. */
  toMatchFileSnapshot(received: unknown, file: string) {
    const testPath = expect.getState().testPath ?? "/repo";
    const where = resolve(dirname(testPath), file);
    const expected = readEmbedded(where);
    const pass = expected !== undefined && received === expected;
    return {
      pass,
      message: () =>
        expected === undefined
          ? `no file ${where} was embedded in the playground's build`
          : `the text does not match ${where}, the snapshot kept beside the test`,
    };
  },
});
