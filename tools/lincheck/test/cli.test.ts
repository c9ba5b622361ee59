import { spawn, spawnSync } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { isUsageError, quietOnBrokenPipe, UsageError, userPath } from "../src/command.ts";
import { EXIT, main, USAGE } from "../src/main.ts";
import { corpusEntries, repoRoot } from "./corpus.ts";

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dir = mkdtempSync(join(tmpdir(), "lincheck-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const illegal = corpusEntries().find((e) => e.file === "jepsen/etcd_000.log")!;
const legal = corpusEntries().find((e) => e.file === "kv/c10-ok.txt")!;

describe("the lincheck command", () => {
  it("exits 0 for a linearizable history and says so", () => {
    const r = run(legal.path);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/LINEARIZABLE \(kv model, \d+ operations, 10 partitions\) in [\d.]+ ms/);
  });

  it("exits 1 for a violation and explains where it breaks", () => {
    const r = run(illegal.path);
    expect(r.code).toBe(1);
    expect(r.out).toContain("NOT LINEARIZABLE");
    expect(r.out).toMatch(/longest linearizable prefix has \d+ of 85 operations/);
    expect(r.out).toContain("the model rejects every operation that could go next");
    expect(r.out).toContain("<- returned first: the history breaks here");
  });

  it("reads the README's JSON example and finds its stale read", () => {
    const r = run(join(repoRoot, "tools/lincheck/examples/stale-read.jsonl"));
    expect(r.code).toBe(1);
    expect(r.out).toContain('#4 client c1 (line 6): get("x") -> "1"   <- returned first');
  });

  it("exits 4 when the state budget runs out, and says which limit it was", () => {
    const r = run(illegal.path, "--max-states", "5");
    expect(r.code).toBe(4);
    expect(r.out).toContain("UNKNOWN");
    expect(r.out).toContain(
      "the history: gave up after 5 states: the state budget (--max-states) ran out",
    );
  });
});

describe("the lincheck command and partitions", () => {
  it("stops at the first partition that is not linearizable, unless --all", () => {
    const h = join(dir, "two-bad-keys.jsonl");
    const put = (c: string, t: number, k: string, v: string) =>
      `{"client": "${c}", "call": ${t}, "return": ${t + 1}, "input": {"op": "put", "key": "${k}", "value": "${v}"}, "output": {}}`;
    const get = (c: string, t: number, k: string, v: string) =>
      `{"client": "${c}", "call": ${t}, "return": ${t + 1}, "input": {"op": "get", "key": "${k}"}, "output": {"value": "${v}"}}`;
    writeFileSync(
      h,
      [
        '{"model": "kv"}',
        put("a", 0, "x", "1"),
        get("b", 2, "x", "0"),
        put("a", 4, "y", "1"),
        put("a", 6, "y", "2"),
        get("b", 8, "y", "1"),
      ].join("\n"),
    );
    const first = run(h);
    expect(first.code).toBe(1);
    expect(first.out).toContain('key "x": the longest linearizable prefix');
    expect(first.out).not.toContain('key "y":');
    expect(first.out).toContain("1 other partition was not checked");
    const all = run(h, "--all");
    expect(all.code).toBe(1);
    expect(all.out).toContain('key "x": the longest linearizable prefix');
    expect(all.out).toContain('key "y": the longest linearizable prefix');
    expect(all.out).not.toContain("not checked");
  });
});

describe("the lincheck command, given something wrong", () => {
  it("exits 3 for bad input, naming file and line", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"model": "register"}\n{"client": 1, "call": "soon"}\n');
    const r = run(bad);
    expect(r.code).toBe(EXIT.error);
    expect(r.err).toBe(`lincheck: ${bad}:2: "call" must be a number, got "soon"`);
  });

  it("exits 3 for a file it cannot read or a page it cannot write, saying why", () => {
    const missing = run(join(dir, "nope.jsonl"));
    expect(missing.code).toBe(3);
    expect(missing.err).toBe(
      `lincheck: ${join(dir, "nope.jsonl")}: cannot read: ENOENT (no such file)`,
    );
    expect(run(dir).err).toContain("cannot read: EISDIR (a folder, not a history file)");
    const underAFile = join(legal.path, "page.html");
    const unwritable = run(legal.path, "--html", underAFile);
    expect(unwritable.code).toBe(3);
    expect(unwritable.err).toBe(
      `lincheck: ${underAFile}: cannot write the page (EEXIST: file already exists, mkdir '${legal.path}'): choose another --html`,
    );
  });

  it("says so when --format does not match the file, naming the line", () => {
    const r = run(join(repoRoot, "tools/lincheck/examples/stale-read.jsonl"), "--format", "jepsen");
    expect(r.code).toBe(3);
    expect(r.err).toContain(
      "stale-read.jsonl:1: --format jepsen does not match the file: this line looks like a lincheck JSON history, not a Jepsen log",
    );
  });

  it("reports a bug as a bug (exit 3, with its stack), never as a usage error", () => {
    const err: string[] = [];
    const code = main([legal.path], {
      out: () => {
        throw new TypeError("out is broken");
      },
      err: (t) => err.push(t),
    });
    expect(code).toBe(EXIT.error);
    expect(err.join("\n")).toMatch(
      /^lincheck: an internal error, a bug in lincheck; please report it/,
    );
    expect(err.join("\n")).toContain("TypeError: out is broken");
    expect(err.join("\n")).not.toContain("--help");
  });
});

describe("the lincheck command, given a wrong command line", () => {
  it("exits 2 for a usage error: what is wrong, then where the help is", () => {
    for (const [argv, what] of [
      [[], "no history file given"],
      [["a", "b"], "expected one history file, got 2: a b"],
      [["a", "--format", "csv"], 'unknown --format "csv" (expected json, jepsen, kv)'],
      [["a", "--budget", "100"], "unknown option --budget"],
      [["--colour"], "unknown option --colour"],
      [["a", "--max-states"], "Option '--max-states <value>' argument missing"],
      [
        ["a", "--timeline", "t.html"],
        "--timeline needs --html: it is the page that links to the timeline",
      ],
    ] as const) {
      const r = run(...argv);
      expect(r.code, argv.join(" ")).toBe(EXIT.usage);
      expect(r.err).toBe(`lincheck: ${what}\nTry 'pnpm lincheck --help'.`);
      expect(r.out).toBe("");
    }
  });

  it("reads every number one way: digits only, from the least that makes sense", () => {
    for (const [option, given, least] of [
      ["--max-states", "soon", 1],
      ["--max-states", "0", 1],
      ["--max-states", "1e3", 1],
      ["--max-states", "0x10", 1],
      ["--max-states", " 5", 1],
      ["--time-limit", "-1", 0],
      ["--time-limit", "2.5", 0],
    ] as const) {
      const r = run(legal.path, `${option}=${given}`);
      expect(r.code, `${option} ${given}`).toBe(EXIT.usage);
      expect(r.err.split("\n")[0]).toBe(
        `lincheck: ${option} must be a whole number of at least ${least}, got "${given}"`,
      );
    }
    expect(run(legal.path, "--max-states", "1000000", "--time-limit", "0").code).not.toBe(2);
  });
});

describe("what every command of the repository does alike (src/command.ts)", () => {
  it("tells parseArgs' errors and UsageErrors from other errors", () => {
    let parseError: unknown;
    try {
      parseArgs({ args: ["--nope"], options: {} });
    } catch (e) {
      parseError = e;
    }
    expect(parseError).toBeInstanceOf(TypeError);
    expect(isUsageError(parseError)).toBe(true);
    expect(isUsageError(new UsageError("bad"))).toBe(true);
    expect(isUsageError(new TypeError("x is undefined"))).toBe(false);
    expect(isUsageError(Object.assign(new Error("gone"), { code: "ENOENT" }))).toBe(false);
    expect(isUsageError("ERR_PARSE_ARGS")).toBe(false);
  });

  it("resolves the user's paths against INIT_CWD, where pnpm was typed, else the cwd", () => {
    expect(userPath("h.jsonl", { INIT_CWD: "/home/u/raft" })).toBe("/home/u/raft/h.jsonl");
    expect(userPath("/abs/h.jsonl", { INIT_CWD: "/home/u/raft" })).toBe("/abs/h.jsonl");
    expect(userPath("h.jsonl", {})).toBe(join(process.cwd(), "h.jsonl"));
  });

  it("exits quietly with status 0 when the reader goes away (EPIPE), and rethrows other errors", () => {
    const stream = new EventEmitter();
    const exits: number[] = [];
    quietOnBrokenPipe([stream], (code) => exits.push(code));
    stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(exits).toEqual([0]);
    expect(() => stream.emit("error", Object.assign(new Error("EIO"), { code: "EIO" }))).toThrow(
      "EIO",
    );
  });
});

describe("the lincheck command's other duties", () => {
  it("prints help, the same the README shows", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    expect(r.out).toBe(USAGE);
    expect(r.err).toBe("");
    const readme = readFileSync(join(repoRoot, "tools/lincheck/README.md"), "utf8");
    expect(readme).toContain(`$ pnpm -s lincheck --help\n${USAGE}\n\`\`\``);
  });

  it("writes the HTML page, creating its folder", () => {
    const page = join(dir, "new", "page.html");
    expect(run(illegal.path, "--html", page).code).toBe(1);
    expect(readFileSync(page, "utf8")).toContain(
      '<button id="jump" data-partition="0" data-op="43">',
    );
    expect(readFileSync(page, "utf8")).not.toContain('id="timeline"');
  });
});

describe("the lincheck command's paths", () => {
  it("links the page to the test's timeline, relative to where the page is", () => {
    const page = join(dir, "traces", "kv test #1.history.html");
    const timeline = join(dir, "traces", "kv test #1.html");
    expect(run(illegal.path, "--html", page, "--timeline", timeline).code).toBe(1);
    expect(readFileSync(page, "utf8")).toContain('<a id="timeline" href="kv%20test%20%231.html">');
    const elsewhere = join(dir, "pages", "h.html");
    run(illegal.path, "--html", elsewhere, "--timeline", timeline);
    expect(readFileSync(elsewhere, "utf8")).toContain('href="../traces/kv%20test%20%231.html"');
  });

  it("reads and writes paths relative to INIT_CWD, as pnpm gives it, and names them as typed", () => {
    const before = process.env.INIT_CWD;
    process.env.INIT_CWD = join(repoRoot, "tools/lincheck");
    try {
      const page = relative(process.env.INIT_CWD, join(dir, "init-cwd", "h.html"));
      const r = run("examples/stale-read.jsonl", "--html", page);
      expect(r.out).toMatch(/^examples\/stale-read\.jsonl: NOT LINEARIZABLE/);
      expect(r.out).toContain(`wrote ${page}`);
      expect(readFileSync(join(dir, "init-cwd", "h.html"), "utf8")).toContain("stale-read.jsonl");
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
  });
});

describe("the lincheck command as a process", () => {
  it("runs as the root script, with the real exit code", () => {
    const tsx = join(repoRoot, "tools/lincheck/node_modules/.bin/tsx");
    const r = spawnSync(tsx, ["tools/lincheck/src/cli.ts", illegal.path], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("NOT LINEARIZABLE");
  });

  it("ends quietly, status 0, when its output's reader is gone (| head)", async () => {
    const tsx = join(repoRoot, "tools/lincheck/node_modules/.bin/tsx");
    // The reading end is closed before the command can have written anything.
    const child = spawn(tsx, ["tools/lincheck/src/cli.ts", illegal.path], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const [status] = (await once(child, "close")) as [number | null];
    expect(stderr).toBe("");
    expect(status).toBe(0);
  });
});

/** `pnpm lincheck` as a user types it, in `cwd`, with none of the outer pnpm run's settings. */
function viaPnpm(cwd: string, ...argv: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$|PNPM_SCRIPT_SRC_DIR$)/i.test(k)),
  );
  return spawnSync("pnpm", argv, { cwd, encoding: "utf8", env });
}

describe("pnpm lincheck, as the README says to run it", () => {
  const tool = join(repoRoot, "tools/lincheck");

  it("works in the tool's folder and below it, with paths relative to where it is typed", () => {
    for (const [cwd, file] of [
      [tool, "examples/stale-read.jsonl"],
      [join(tool, "examples"), "stale-read.jsonl"],
      [repoRoot, "tools/lincheck/examples/stale-read.jsonl"],
    ] as const) {
      const r = viaPnpm(cwd, "-s", "lincheck", file);
      expect(r.stdout, cwd).toContain(`${file}: NOT LINEARIZABLE`);
      expect(r.status, cwd).toBe(1);
      // -s: no "ELIFECYCLE Command failed" from pnpm after a verdict.
      expect(r.stderr, cwd).toBe("");
    }
  });

  it("without -s, says that pnpm's failure line only reports the verdict", () => {
    const r = viaPnpm(tool, "lincheck", "examples/stale-read.jsonl");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("lincheck: exit code 1 reports the verdict");
  });
});
