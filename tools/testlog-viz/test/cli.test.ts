import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { HELP, main } from "../src/main.ts";
import { end, onNode, start } from "./build.ts";
import { fixture, KV_RUN_FILES, MERGED_FILES } from "./real.ts";

function cli(...argv: string[]) {
  let out = "";
  let err = "";
  const status = main(argv, { out: (s) => (out += s), err: (s) => (err += s), color: 0 });
  return { status, out, err };
}

/** A folder with one passing trace and one cut short. */
function runFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "viz-cli-"));
  writeFileSync(join(dir, "a--passes.jsonl"), fixture("handmade-election.jsonl"));
  writeFileSync(
    join(dir, "b--crashed.jsonl"),
    `${start([0])}\n${onNode(1, 0, 1, "follower", "x")}\n`,
  );
  writeFileSync(join(dir, "notes.txt"), "not a trace");
  return dir;
}

describe("testlog-viz command line", () => {
  test("--help explains inputs, outputs and every option", () => {
    const { status, out } = cli("--help");
    expect(status).toBe(0);
    expect(out).toBe(HELP);
    for (const word of [
      "Inputs:",
      "Outputs",
      "--out",
      "--format",
      "--hide-heartbeats",
      "--exit-code",
      "--merge",
      "index.html",
    ]) {
      expect(out).toContain(word);
    }
  });

  test("renders a folder: a page per trace and an index, one line per test", () => {
    const dir = runFolder();
    const { status, out } = cli(dir);
    expect(status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      "a--passes.html",
      "a--passes.jsonl",
      "b--crashed.html",
      "b--crashed.jsonl",
      "index.html",
      "notes.txt",
    ]);
    expect(out.split("\n")).toEqual([
      `PASS  election basic election  ${pathToFileURL(join(dir, "a--passes.html")).href}`,
      `FAIL (trace cut short)  t small  ${pathToFileURL(join(dir, "b--crashed.html")).href}`,
      `index  ${pathToFileURL(join(dir, "index.html")).href}`,
      "",
    ]);
    expect(readFileSync(join(dir, "index.html"), "utf8")).toContain(
      '<a href="b--crashed.html">t small</a>',
    );
  });

  test("--exit-code fails when a test failed; --out chooses the folder", () => {
    const dir = runFolder();
    const out = join(dir, "pages");
    expect(cli("--exit-code", "-o", out, join(dir, "a--passes.jsonl")).status).toBe(0);
    expect(cli("--exit-code", "--out", out, dir).status).toBe(1);
    expect(readdirSync(out).sort()).toEqual(["a--passes.html", "b--crashed.html", "index.html"]);
  });

  test("text format prints the timelines", () => {
    const dir = runFolder();
    const { status, out } = cli("-f", "text", "--hide-heartbeats", join(dir, "a--passes.jsonl"));
    expect(status).toBe(0);
    expect(out.split("\n")).toHaveLength(4 + 37 + 1);
    expect(readdirSync(dir)).not.toContain("index.html");
  });
});

describe("testlog-viz command line: errors", () => {
  test("usage errors exit with 2 and say what is wrong", () => {
    const dir = runFolder();
    const cases: [string[], string][] = [
      [[], "no input"],
      [["--bogus", dir], "Unknown option '--bogus'"],
      [["-f", "pdf", dir], 'unknown format "pdf"'],
      [[join(dir, "missing.jsonl")], "no such file or folder"],
      [[join(dir, "pages-none")], "no such file or folder"],
      [[mkdtempSync(join(tmpdir(), "viz-empty-"))], "no .jsonl traces in"],
      [[join(dir, "notes.txt")], "notes.txt is not a trace: none of its lines is a trace event"],
      [["--report", join(dir, "notes.txt"), dir], "cannot read the vitest report"],
    ];
    for (const [argv, message] of cases) {
      const { status, err } = cli(...argv);
      expect(status, argv.join(" ")).toBe(2);
      expect(err).toContain(message);
    }
  });

  test("a file that is not a trace is an error, and no page is written for it", () => {
    const dir = runFolder();
    writeFileSync(join(dir, "c--package.jsonl"), '{\n  "name": "not a trace"\n}\n');
    const { status, out, err } = cli(dir);
    expect(status).toBe(2);
    expect(err).toContain("c--package.jsonl is not a trace");
    expect(out).toBe("");
    expect(readdirSync(dir)).not.toContain("index.html");
  });
});

describe("testlog-viz command line: errors as TEAM.md's CLI contract says", () => {
  test("a usage error names what is wrong and how to get help; exit 2", () => {
    const { status, err } = cli("--bogus", "x");
    expect(status).toBe(2);
    expect(err).toBe(
      "testlog-viz: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"\nTry 'pnpm viz --help'.\n",
    );
  });

  test("any other error says what happened, exit 1, and does not send the reader to --help", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-error-"));
    writeFileSync(join(dir, "t.jsonl"), fixture("handmade-election.jsonl"));
    // the output folder is a file: not a usage error, a failure to write
    writeFileSync(join(dir, "pages"), "a file, not a folder");
    const { status, err } = cli("-o", join(dir, "pages"), dir);
    expect(status).toBe(1);
    expect(err).toMatch(/^testlog-viz: EEXIST|^testlog-viz: ENOTDIR/);
    expect(err).not.toContain("--help");
  });

  test("relative paths are read from where the user typed the command (INIT_CWD)", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-cwd-"));
    writeFileSync(join(dir, "t.jsonl"), fixture("handmade-election.jsonl"));
    const before = process.env.INIT_CWD;
    process.env.INIT_CWD = dir;
    try {
      const { status, out } = cli("-o", "pages", "t.jsonl");
      expect(status).toBe(0);
      expect(out).toContain(pathToFileURL(join(dir, "pages", "t.html")).href);
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
  });

  test("a test vitest expects to fail (test.fails) is PASS (expected to fail), not a failure", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-fails-"));
    const file = "part0-test/test/small.test.ts";
    const trace = `${start([0], { test: "t > meant to fail", file })}\n${end(1, "fail", { error: "forged read" })}\n`;
    writeFileSync(join(dir, "small--t-meant-to-fail.jsonl"), trace);
    const report = {
      testResults: [
        {
          name: `/repo/${file}`,
          assertionResults: [{ ancestorTitles: ["t"], title: "meant to fail", status: "passed" }],
        },
      ],
    };
    writeFileSync(join(dir, "report.json"), JSON.stringify(report));
    const without = cli("--exit-code", dir);
    expect(without.status).toBe(1); // without vitest's word, its trace says it failed
    const { status, out } = cli("--exit-code", "--report", join(dir, "report.json"), dir);
    expect(status).toBe(0);
    expect(out).toMatch(/^PASS \(expected to fail\) {2}t meant to fail /);
    const page = readFileSync(join(dir, "small--t-meant-to-fail.html"), "utf8");
    expect(page).toContain("vitest expects this test to fail");
  });
});

describe("testlog-viz command line: the vitest report and the entry point", () => {
  test("--report lists the tests that ran without a cluster; two clusters of one test are told apart", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-report-"));
    const file = "part0-test/test/small.test.ts";
    const trace = `${start([0], { test: "t > small", file })}\n${end(1)}\n`;
    writeFileSync(join(dir, "small--t-small.jsonl"), trace);
    writeFileSync(join(dir, "small--t-small-2.jsonl"), trace);
    const test = (title: string, status: string) => ({ ancestorTitles: ["t"], title, status });
    const report = {
      testResults: [
        {
          name: `/repo/${file}`,
          assertionResults: [
            test("small", "passed"),
            test("pure (no cluster)", "failed"),
            test("left out by -t", "skipped"),
          ],
        },
      ],
    };
    writeFileSync(join(dir, "report.json"), JSON.stringify(report));
    const { status, out } = cli("--exit-code", "--report", join(dir, "report.json"), dir);
    expect(status).toBe(1);
    const lines = out.split("\n");
    // in the order a person counts them: the first cluster first
    expect(lines[0]).toMatch(/^PASS {2}t small \(cluster 1 of 2\) {2}file:.*small--t-small\.html$/);
    expect(lines[1]).toMatch(
      /^PASS {2}t small \(cluster 2 of 2\) {2}file:.*small--t-small-2\.html$/,
    );
    expect(lines[2]).toBe("FAIL  t pure \\(no cluster\\)  (started no cluster: no timeline)");
    expect(out).not.toContain("left out");
    const index = readFileSync(join(dir, "index.html"), "utf8");
    expect(index).toContain("(started no cluster: no timeline)");
    expect(index).toContain("2 passed, 1 failed");
  });

  test("the cli.ts entry point wires main to the process", () => {
    const cliPath = new URL("../src/cli.ts", import.meta.url).pathname;
    const tsx = new URL("../node_modules/.bin/tsx", import.meta.url).pathname;
    const ok = spawnSync(tsx, [cliPath, "--help"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(HELP);
    const bad = spawnSync(tsx, [cliPath], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("no input");
  });
});

describe("testlog-viz --merge", () => {
  /** A copy of the hand-made run of real processes, in a folder named run-7. */
  function runOfProcesses(): string {
    const dir = join(mkdtempSync(join(tmpdir(), "viz-merge-")), "run-7");
    mkdirSync(dir);
    for (const name of MERGED_FILES) {
      writeFileSync(join(dir, name), fixture(`merged-run/${name}`));
    }
    return dir;
  }

  test("a folder: one page named after it, with every file's events", () => {
    const dir = runOfProcesses();
    const { status, out } = cli("--merge", dir);
    expect(status).toBe(0);
    expect(out.split("\n")[0]).toBe(
      `PASS  real processes two clients, and the leader killed in the middle of a write  ${pathToFileURL(join(dir, "run-7.html")).href}`,
    );
    const page = readFileSync(join(dir, "run-7.html"), "utf8");
    expect(page).toContain("4 files of one run: n0.jsonl, n1.jsonl, n2.jsonl, test.jsonl");
    expect(page).toContain("<dt>run</dt><dd><code>run-7</code></dd>");
    expect(page).toContain("times are ms since 2024-11-23T20:00:00.000Z");
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith(".html"))
        .sort(),
    ).toEqual(["index.html", "run-7.html"]);
  });

  test("files: merged.html beside the first; the text view says where its times count from", () => {
    const dir = runOfProcesses();
    const files = MERGED_FILES.map((name) => join(dir, name));
    expect(cli("--merge", ...files).status).toBe(0);
    expect(readdirSync(dir)).toContain("merged.html");
    const { out } = cli("--merge", "-f", "text", "--hide-heartbeats", ...files);
    expect(out).toContain("merged from 4 files; ms since 2024-11-23T20:00:00.000Z");
    expect(out).toMatch(/ {5}0 {2}F0 {3}F0 {3}F0 {3}· {4}· {4} TEST test\.start/);
    // the test killed n1 (its fault event): dead from then on
    expect(out).toMatch(/306 {2}F1 {3}✝1 {3}F1 {3}· {4}\?2 {3} b client\.complete/);
  });

  test("files of two runs in one folder make two pages, never one cluster of both", () => {
    const dir = runOfProcesses();
    // a second run's node file beside the first run's (a trace folder used twice)
    const other = fixture("merged-run/n0.jsonl").replaceAll('"run":"run-7"', '"run":"run-8"');
    writeFileSync(join(dir, "n0-i2.jsonl"), other);
    const { status, out } = cli("--merge", dir);
    expect(status).toBe(0);
    const pages = readdirSync(dir).filter((f) => f.endsWith(".html") && f !== "index.html");
    expect(pages.sort()).toEqual(["run-7-run-7.html", "run-7-run-8.html"]);
    const seven = readFileSync(join(dir, "run-7-run-7.html"), "utf8");
    expect(seven).toContain("4 files of one run");
    expect(seven).toContain("the files given also hold run run-8: each run has a page of its own");
    expect(out.split("\n")).toHaveLength(4); // two pages, the index, the final newline
  });

  test("a run of real processes that no test drove is a RUN, with its processes, not a failure", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-kv-run-"));
    for (const name of KV_RUN_FILES) writeFileSync(join(dir, name), fixture(`kv-run/${name}`));
    const { status, out } = cli("--merge", "--exit-code", dir);
    expect(status).toBe(0);
    expect(out.split("\n")[0]).toMatch(/^RUN {2}run run-fixture-1 of real processes {2}file:/);
    const page = readFileSync(join(dir, `${basename(dir)}.html`), "utf8");
    expect(page).not.toContain('<section class="warnings"');
    expect(page).not.toContain("<dt>seed</dt>");
    expect(page).toMatch(/<dt>processes<\/dt><dd>supervisor pid \d+ · n\d pid \d+/);
    expect(page).toContain("(start 2)");
  });

  test("a file that is not a trace is still an error", () => {
    const dir = runOfProcesses();
    writeFileSync(join(dir, "notes.jsonl"), "nothing to see\n");
    const { status, err } = cli("--merge", dir);
    expect(status).toBe(2);
    expect(err).toContain("notes.jsonl is not a trace");
  });
});

describe("testlog-viz and part4's history pages", () => {
  test("a test whose history page lies beside its trace links it, from its page and the index", () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-history-"));
    writeFileSync(join(dir, "kv--t-small.jsonl"), `${start([0])}\n${end(1, "fail")}\n`);
    writeFileSync(join(dir, "kv--t-small.history.html"), "<p>not linearizable</p>");
    writeFileSync(
      join(dir, "kv--t-other.jsonl"),
      `${start([0], { test: "t > other" })}\n${end(1)}\n`,
    );
    const out = join(dir, "pages");
    expect(cli("-o", out, dir).status).toBe(0);
    const link = '<a href="../kv--t-small.history.html">';
    expect(readFileSync(join(out, "kv--t-small.html"), "utf8")).toContain(link);
    expect(readFileSync(join(out, "kv--t-other.html"), "utf8")).not.toContain("history.html");
    const index = readFileSync(join(out, "index.html"), "utf8");
    expect(index).toContain('· <a href="../kv--t-small.history.html">history</a>');
    expect(index.match(/history\.html/g)).toHaveLength(1);
  });
});
