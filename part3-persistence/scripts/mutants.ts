// Does the suite catch the bugs it claims to? Each mutant below is a bug that Raft
// implementations have shipped or that the Students' Guide warns about, written as one edit to
// src/raft.ts. For each, this script copies the part into a scratch folder, makes the edit, runs
// the whole suite under the default seed (which tests catch it?) and the chaos scenario under a
// run of seeds (does chaos alone catch it, and at which seed?). A mutant that nothing catches
// marks a rule the suite does not guard.
//
//   pnpm --filter <part> test:mutants                 every mutant, chaos under 20 seeds
//   pnpm --filter <part> test:mutants --only majority --seeds 50

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: mutants quote source text, template literals included

import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const partDir = path.resolve(import.meta.dirname, "..");
const partName = path.basename(partDir);

interface Mutant {
  name: string;
  /** The rule it breaks, as the code names it. */
  rule: string;
  find: string;
  replace: string;
  /** Why no run of the cluster can reach the rule (a guard for a state Raft rules out). */
  chaosCannotReach?: string;
}

const MUTANTS: Mutant[] = [
  {
    name: "majority-counted-with->=",
    rule: "§5.2: a majority of the servers (half is not one)",
    find: "return count * 2 > this.peerIds.length + 1;",
    replace: "return count * 2 >= this.peerIds.length + 1;",
  },
  {
    name: "second-vote-in-a-term",
    rule: "RequestVote receiver rule 2: one vote per term",
    find: "if (this.votedFor !== null && this.votedFor !== args.candidateId) {",
    replace: "if (false) {",
  },
  {
    name: "vote-cleared-on-same-term-step-down",
    rule: "Rules for All Servers: votedFor is cleared only when the term moves",
    find: "      this.setTerm(term, reason);\n      this.setVotedFor(null);\n    }",
    replace: "      this.setTerm(term, reason);\n    }\n    this.setVotedFor(null);",
  },
  {
    name: "stale-vote-replies-counted",
    rule: "Candidates: only votes for the current election count",
    find: 'if (this.role !== "candidate" || this.currentTerm !== args.term) {',
    replace: "if (false) {",
  },
  {
    name: "stale-term-vote-granted",
    rule: "RequestVote receiver rule 1: reply false if term < currentTerm",
    find: "if (args.term < this.currentTerm) return refuse(",
    replace: "if (false) return refuse(",
  },
  {
    name: "stale-term-append-accepted",
    rule: "AppendEntries receiver rule 1: reply false if term < currentTerm",
    find: "if (args.term < this.currentTerm) return { term: this.currentTerm, success: false };",
    replace: "",
  },
  {
    name: "higher-term-in-vote-reply-ignored",
    rule: "Rules for All Servers: a reply with a higher term converts to follower",
    find: "if (reply.term > this.currentTerm) {\n      this.becomeFollower(reply.term, `n${peer} replied to RequestVote",
    replace: "if (false) {\n      this.becomeFollower(reply.term, `n${peer} replied to RequestVote",
  },
  {
    name: "higher-term-in-append-reply-ignored",
    rule: "Rules for All Servers: a reply with a higher term converts to follower",
    find: "if (reply.term > this.currentTerm) {\n      this.becomeFollower(reply.term, `n${peer} replied to AppendEntries",
    replace:
      "if (false) {\n      this.becomeFollower(reply.term, `n${peer} replied to AppendEntries",
  },
  {
    name: "higher-term-in-request-ignored",
    rule: "Rules for All Servers: a request with a higher term converts to follower",
    find: "if (args.term > this.currentTerm) {\n      this.becomeFollower(args.term, `RequestVote",
    replace: "if (false) {\n      this.becomeFollower(args.term, `RequestVote",
  },
  {
    name: "leader-accepts-same-term-append",
    rule: "a leader refuses AppendEntries of its own term",
    find: 'if (this.role === "leader") return { term: this.currentTerm, success: false };',
    replace: "",
    chaosCannotReach:
      "only a second leader of the same term would send it: Election Safety rules that out",
  },
  {
    name: "candidate-ignores-same-term-leader",
    rule: "Candidates: AppendEntries from the new leader of its term converts to follower",
    find: 'if (this.role === "candidate") {\n      this.becomeFollower(',
    replace: "if (false) {\n      this.becomeFollower(",
  },
  {
    name: "no-self-vote",
    rule: "Candidates: vote for self",
    find: "    this.setVotedFor(this.id);\n",
    replace: "",
  },
  {
    name: "timer-not-reset-on-granted-vote",
    rule: "Followers: granting a vote restarts the election timer",
    find: "    this.setVotedFor(args.candidateId);\n    // Figure 2, Followers: granting a vote restarts the election timer.\n    this.resetElectionTimer();",
    replace: "    this.setVotedFor(args.candidateId);",
  },
  {
    name: "stale-append-resets-timer",
    rule: "Followers: only the current leader's AppendEntries restarts the election timer",
    find: "  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {\n",
    replace:
      "  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {\n    this.resetElectionTimer();\n",
  },
  {
    name: "identical-election-timeouts",
    rule: "§5.2: randomized election timeouts",
    find: "const timeoutMs = this.env.random.int(min, max);",
    replace: "const timeoutMs = min + 0 * max;",
  },
  {
    name: "deposed-leader-keeps-heartbeating",
    rule: "Rules for All Servers: a leader that sees a higher term stops leading",
    find: "      this.heartbeatTimer?.cancel();\n      this.heartbeatTimer = null;\n    }\n    // Role first",
    replace: "    }\n    // Role first",
  },
  // ---- Part 2: the log ----
  {
    name: "no-election-restriction",
    rule: "§5.4.1: vote only for a candidate whose log is at least as up to date",
    find: "args.lastLogTerm < lastTerm ||\n      (args.lastLogTerm === lastTerm && args.lastLogIndex < lastIndex)",
    replace: "false",
  },
  {
    name: "up-to-date-by-length-only",
    rule: "§5.4.1: a later last term wins, and only with equal last terms the longer log",
    find: "args.lastLogTerm < lastTerm ||\n      (args.lastLogTerm === lastTerm && args.lastLogIndex < lastIndex)",
    replace: "args.lastLogIndex < lastIndex",
  },
  {
    name: "consistency-check-by-length-only",
    rule: "AppendEntries receiver rule 2: the entry at prevLogIndex must have prevLogTerm",
    find: "args.prevLogIndex > this.lastLogIndex() ||\n      this.termAt(args.prevLogIndex) !== args.prevLogTerm",
    replace: "args.prevLogIndex > this.lastLogIndex()",
  },
  {
    name: "stale-request-truncates",
    rule: "AppendEntries receiver rule 3: delete only entries that conflict",
    find: "if (index <= this.lastLogIndex() && this.termAt(index) === entries[i]!.term) continue;",
    replace: "",
  },
  {
    name: "commit-to-leaderCommit",
    rule: "AppendEntries receiver rule 5: commit no further than the last new entry",
    find: "const commit = Math.min(args.leaderCommit, lastVerified);",
    replace: "const commit = Math.min(args.leaderCommit, this.lastLogIndex() + 0 * lastVerified);",
  },
  {
    name: "earlier-term-committed-by-counting",
    rule: "§5.4.2: a leader commits only entries of its own term by counting replicas (Figure 8)",
    find: "if (n <= this.commitIndex || this.termAt(n) !== this.currentTerm) return;",
    replace: "if (n <= this.commitIndex) return;",
  },
  {
    name: "matchIndex-goes-backwards",
    rule: "Leaders: matchIndex only grows in a term (replies come out of order)",
    find: "const match = Math.max(args.prevLogIndex + args.entries.length, this.matchIndex.get(peer)!);",
    replace: "const match = args.prevLogIndex + args.entries.length;",
  },
  {
    name: "late-refusal-backs-up-again",
    rule: "Leaders: only a refusal of the current probe decrements nextIndex",
    find: "if (args.prevLogIndex + 1 !== next || next - 1 <= match) return;",
    replace: "if (next - 1 <= match) return;",
  },
  {
    name: "nextIndex-backs-up-to-matchIndex",
    rule: "Leaders: nextIndex stays above matchIndex, which is known to match",
    find: "if (args.prevLogIndex + 1 !== next || next - 1 <= match) return;\n    const hint = this.config.fastBacktracking ? this.afterConflict(reply) : undefined;\n    const back = Math.max(match + 1, Math.min(next - 1, hint ?? next - 1));",
    replace:
      "if (args.prevLogIndex + 1 !== next) return;\n    const hint = this.config.fastBacktracking ? this.afterConflict(reply) : undefined;\n    const back = Math.min(next - 1, hint ?? next - 1);",
    chaosCannotReach:
      "a refusal or a hint at or below matchIndex comes only from a follower that lost entries it accepted in this term, which no follower does",
  },
  {
    name: "stale-append-replies-counted",
    rule: "Leaders: a reply to a leader of an earlier term says nothing about this term",
    find: 'if (this.role !== "leader" || this.currentTerm !== args.term) {',
    replace: 'if (this.role !== "leader") {',
  },
  {
    name: "leader-state-kept-across-terms",
    rule: "Volatile state on leaders: reinitialized after each election",
    find: 'for (const peer of this.peerIds) this.setProgress(peer, this.lastLogIndex() + 1, 0, "elected");',
    replace:
      'for (const peer of this.peerIds) if (!this.nextIndex.has(peer)) this.setProgress(peer, this.lastLogIndex() + 1, 0, "elected");',
  },
  {
    name: "applies-uncommitted-entries",
    rule: "All Servers: apply only what is committed (commitIndex > lastApplied)",
    find: "while (this.lastApplied < this.commitIndex) {",
    replace: "while (this.lastApplied < this.lastLogIndex()) {",
  },
  {
    name: "held-up-request-waits-for-its-timeout",
    rule: "§5.3: entries held up on their way are sent again with the next heartbeat",
    find: "sent !== undefined && this.env.clock.now() - sent.sentAt < this.config.heartbeatIntervalMs",
    replace: "sent !== undefined",
    chaosCannotReach:
      "it costs time only: the RPC timeout ends the wait, and the entries go again then",
  },
  // ---- Part 3: persistence and the conflict hint ----
  {
    name: "sends-before-saving",
    rule: "Figure 2: persistent state is updated on stable storage before responding to RPCs",
    find: "    const changes = this.unsavedChanges();\n    if (changes !== undefined && !this.save(changes)) return;\n    for (const message of this.outbox.splice(0)) message();",
    replace:
      "    for (const message of this.outbox.splice(0)) message();\n    const changes = this.unsavedChanges();\n    if (changes !== undefined && !this.save(changes)) return;",
  },
  {
    name: "answers-before-saving",
    rule: "Figure 2: a reply leaves only once what it depends on is durable",
    find: "    const reply = this.handle(receive);\n",
    replace: '    const reply = this.handle(receive, "end of turn");\n',
  },
  {
    name: "vote-not-saved",
    rule: "Figure 2: votedFor is persistent",
    find: "    this.votedFor = candidate;\n    this.hardStateUnsaved = true;",
    replace: "    this.votedFor = candidate;",
  },
  {
    name: "conflict-index-off-by-one",
    rule: "§5.3: the conflict hint names the follower's length + 1 when its log is shorter",
    find: "if (index > this.lastLogIndex()) return { conflictIndex: this.lastLogIndex() + 1 };",
    replace: "if (index > this.lastLogIndex()) return { conflictIndex: this.lastLogIndex() + 2 };",
    chaosCannotReach:
      "it costs round trips only: when the hint does not move nextIndex back, the leader backs up by one",
  },
];

const HELP = `usage: pnpm --filter ${partName} test:mutants [--only <text>] [--seeds <n>] [--jobs <n>]

Runs the suite against each mutant of src/raft.ts (or those whose name contains --only), and the
chaos scenario under seeds 1..--seeds (default 20). Prints which tests caught each mutant.`;

interface Verdict {
  mutant: Mutant;
  caughtBy: string[];
  chaosSeed: number | null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      only: { type: "string" },
      seeds: { type: "string", default: "20" },
      jobs: { type: "string", default: "2" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return void console.log(HELP);
  const seeds = Number(values.seeds);
  const jobs = Number(values.jobs);
  if (!(Number.isSafeInteger(seeds) && seeds > 0 && Number.isSafeInteger(jobs) && jobs > 0)) {
    throw new Error(`--seeds and --jobs take positive whole numbers\n\n${HELP}`);
  }
  const chosen = MUTANTS.filter((m) => values.only === undefined || m.name.includes(values.only));
  const queue = [...chosen];
  const verdicts: Verdict[] = [];
  const worker = async () => {
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const verdict = await judge(m, seeds);
      verdicts.push(verdict);
      report(verdict, seeds);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, chosen.length) }, worker));
  const survivors = verdicts.filter(
    (v) => v.caughtBy.length === 0 || (v.chaosSeed === null && !v.mutant.chaosCannotReach),
  );
  console.log(
    `\n${chosen.length - survivors.length} of ${chosen.length} mutants caught by the tests and, where a run can reach them, by chaos`,
  );
  if (survivors.length > 0) process.exitCode = 1;
}

/** Copies the part, applies the mutant, runs the suite and the chaos sweep in the copy. */
async function judge(mutant: Mutant, seeds: number): Promise<Verdict> {
  const scratch = mkdtempSync(path.join(tmpdir(), `${partName}-mutant-`));
  try {
    cpSync(partDir, scratch, {
      recursive: true,
      filter: (from) => !/[/\\](node_modules|out|\.traces)$/.test(from),
    });
    symlinkSync(path.join(partDir, "node_modules"), path.join(scratch, "node_modules"), "dir");
    mutate(path.join(scratch, "src", "raft.ts"), mutant);
    const report = path.join(scratch, "report.json");
    await run(scratch, ["vitest", "run", "--reporter=json", `--outputFile=${report}`]);
    const chaos = await run(scratch, ["tsx", "scripts/seeds.ts", String(seeds), "--file", "chaos"]);
    const failing = /^seed (\d+) FAILED/m.exec(chaos);
    return {
      mutant,
      caughtBy: failedTests(report),
      chaosSeed: failing ? Number(failing[1]) : null,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function mutate(file: string, mutant: Mutant): void {
  const source = readFileSync(file, "utf8");
  const at = source.indexOf(mutant.find);
  if (at < 0 || source.indexOf(mutant.find, at + 1) >= 0) {
    throw new Error(`mutant ${mutant.name}: its text must occur exactly once in src/raft.ts`);
  }
  writeFileSync(file, source.replace(mutant.find, mutant.replace));
}

function failedTests(report: string): string[] {
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      testResults: { assertionResults: { fullName: string; status: string }[] }[];
    };
    return json.testResults
      .flatMap((file) => file.assertionResults)
      .filter((test) => test.status === "failed")
      .map((test) => test.fullName);
  } catch {
    return ["(the suite did not run: see the mutant's compile error)"];
  }
}

/** Runs a package binary in `cwd`; resolves with its output, whatever its exit code. */
function run(cwd: string, args: string[]): Promise<string> {
  const [bin, ...rest] = args;
  return new Promise((resolve) => {
    const child = spawn(path.join(cwd, "node_modules", ".bin", bin!), rest, {
      cwd,
      env: { ...process.env, RAFT_SEED: "", RAFT_TRACE_DIR: "", RAFT_LOG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("close", () => resolve(output));
  });
}

function report({ mutant, caughtBy, chaosSeed }: Verdict, seeds: number): void {
  const tests = caughtBy.length === 0 ? "NO TEST" : `${caughtBy.length} tests`;
  const chaos =
    chaosSeed !== null
      ? `chaos at seed ${chaosSeed}`
      : mutant.chaosCannotReach
        ? `not by chaos, which cannot reach it (${mutant.chaosCannotReach})`
        : `NOT by chaos in ${seeds} seeds`;
  console.log(`\n${mutant.name} (${mutant.rule}): caught by ${tests}, ${chaos}`);
  for (const name of caughtBy.slice(0, 5)) console.log(`    ✗ ${name}`);
  if (caughtBy.length > 5) console.log(`    … and ${caughtBy.length - 5} more`);
}

await main();
