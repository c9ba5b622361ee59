// Does the suite catch the bugs it claims to? Each mutant below is a bug that Raft
// implementations have shipped or that the Students' Guide warns about, written as one edit to
// src/raft.ts (or, where it says, another file of src/). For each, this script copies the part
// into a scratch folder, makes the edit, runs the whole suite under the default seed (which tests
// catch it?) and the chaos scenario under a run of seeds (does chaos alone catch it, and at which
// seed?). A mutant that nothing catches marks a rule the suite does not guard.
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
  /** The file the edit is made in, from the part's folder; src/raft.ts when not given. */
  file?: string;
  /** Why no run of the cluster can reach the rule (a guard for a state Raft rules out). */
  chaosCannotReach?: string;
}

/** Why chaos, which checks safety, cannot catch a rule of liveness: a run without it is still safe. */
const LIVENESS =
  "a rule of liveness: a run without it stays safe, and availability.test.ts measures what it costs";

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
    find: "if (term < this.currentTerm) return false;",
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
    find: 'if (this.role === "leader") return false;',
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
    find: 'if (this.role !== "leader" || this.currentTerm !== args.term) {\n      this.ignoreStale("AppendEntries"',
    replace: 'if (this.role !== "leader") {\n      this.ignoreStale("AppendEntries"',
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
    // Part 6: every node's messages go before its save, as only a leader's AppendEntries may.
    find: 'const parallel = this.role === "leader" && entriesOnly && this.config.parallelLeaderWrite;',
    replace: "const parallel = true;",
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
  // ---- Part 5: snapshots (§7, Figure 13) ----
  {
    name: "log-never-compacted",
    rule: "§7: the policy takes a snapshot after snapshotAfterEntries applied entries",
    find: "      this.snapshotIfDue(command);\n",
    replace: "",
  },
  {
    name: "snapshot-term-is-current-term",
    rule: "§7: lastIncludedTerm is the term of the snapshot's last entry",
    find: "this.compactLog(index, this.termAt(index));",
    replace: "this.compactLog(index, this.currentTerm);",
  },
  {
    name: "snapshot-left-unsaved",
    rule: "Figure 13: the snapshot is durable before anything that depends on it is sent",
    find: "      ...(this.snapshotUnsaved\n        ? {",
    replace: "      ...(false\n        ? {",
  },
  {
    name: "install-answered-before-saving",
    rule: "Figure 13, receiver rule 5: save the snapshot, then reply",
    find: "    return this.answer(() => this.installOn(args));",
    replace: '    return this.handle(() => this.installOn(args), "end of turn");',
  },
  {
    name: "rule-6-not-honoured",
    rule: "Figure 13, receiver rule 6: entries after a matching last included entry are kept",
    find: "const retain = index <= this.lastLogIndex() && this.termAt(index) === term;",
    replace: "const retain = index < 0 && term < 0;",
  },
  {
    name: "commitIndex-and-lastApplied-not-advanced-on-install",
    rule: "Figure 13: an installed snapshot is committed, applied state",
    find: "    this.commitIndex = this.lastApplied = index;\n",
    replace: "",
  },
  {
    name: "older-snapshot-installed",
    rule: "a snapshot through an entry already committed changes nothing",
    find: "if (args.lastIncludedIndex <= this.commitIndex) {",
    replace: "if (false) {",
  },
  {
    name: "chunks-appended-whatever-their-offset",
    rule: "Figure 13, receiver rule 3: write data into the snapshot at the given offset",
    file: "src/snapshot.ts",
    find: "into.data = into.data.slice(0, chunk.offset) + chunk.data + into.data.slice(end);",
    replace: "into.data = into.data + chunk.data + `${end}`.slice(0, 0);",
  },
  {
    name: "late-chunk-answers-counted",
    rule: "Figure 13: only the answer to the chunk being sent moves the transfer on",
    find: "    if (sending?.lastIncludedIndex !== args.lastIncludedIndex || sending.offset !== args.offset) {\n      return;\n    }\n",
    replace: "    if (sending === undefined) return;\n",
    chaosCannotReach:
      "it costs chunks only: the follower refuses what does not continue its snapshot, and the leader starts over",
  },
  {
    name: "append-inside-snapshot-not-trimmed",
    rule: "§7: an AppendEntries reaching into the snapshot is read from its last entry on",
    find: "return this.answer(() => this.appendOn(this.afterSnapshot(args)));",
    replace: "return this.answer(() => this.appendOn(args));",
  },
  {
    name: "lost-data-not-reported",
    rule: "a leader reports a follower that refuses what it acknowledged",
    find: "    this.checkNotLost(peer, args, reply, acknowledged);\n",
    replace: "",
    chaosCannotReach:
      "no storage loses what it saved in a run: a wiped disk breaks the safety checks",
  },

  // ---- Part 6: availability (the thesis's §3.10, §4.2.3, §6.2, §6.4, §9.6, §10.2.1) ----
  {
    name: "pre-vote-skipped",
    rule: "§9.6: a node whose timer ran out asks for pre-votes before it raises its term",
    find: "      if (this.config.preVote) this.startPreVote();",
    replace: "      if (false) this.startPreVote();",
    chaosCannotReach: LIVENESS,
  },
  {
    name: "pre-vote-granted-whatever-the-log",
    rule: "§9.6: a pre-vote asks RequestVote's question, the log at least as up to date (§5.4.1)",
    find: "    const ahead = this.logAheadOf(args);\n    if (ahead !== undefined) return refuse(ahead);\n    this.tracePreVote(",
    replace: "    this.tracePreVote(",
    chaosCannotReach: LIVENESS,
  },
  {
    name: "pre-vote-term-adopted",
    rule: "§9.6: a PreVote changes no term, on either side",
    find: "    if (args.term <= this.currentTerm) return refuse(`stale term (own term ${this.currentTerm})`);\n    // With CheckQuorum",
    replace:
      '    if (args.term > this.currentTerm) this.becomeFollower(args.term, "PreVote");\n    if (args.term <= this.currentTerm) return refuse(`stale term (own term ${this.currentTerm})`);\n    // With CheckQuorum',
  },
  {
    name: "pre-votes-of-a-minority-suffice",
    rule: "§9.6: a node campaigns only if a majority would vote for it",
    find: "    if (this.isMajority(votes)) this.startElection(`a majority would vote for it (§9.6)`);",
    replace: "    if (votes >= 1) this.startElection(`a majority would vote for it (§9.6)`);",
    chaosCannotReach: LIVENESS,
  },
  {
    name: "check-quorum-never-steps-down",
    rule: "§6.2: a leader without a majority's answers in an election timeout steps down",
    find: "      if (this.isMajority(heard)) this.scheduleQuorumCheck();",
    replace: "      if (true) this.scheduleQuorumCheck();",
    chaosCannotReach: LIVENESS,
  },
  {
    name: "no-vote-lease",
    rule: "§4.2.3: a server that heard from its leader within the minimum timeout ignores RequestVote",
    find: "    if (!this.config.checkQuorum || args.leadershipTransfer || this.leaderId === null) return false;",
    replace: "    return false;",
    chaosCannotReach: LIVENESS,
  },
  {
    name: "lease-binds-a-transfer-too",
    rule: "§3.10: a leadership transfer's candidate is expected: voters disregard their lease",
    find: "    if (!this.config.checkQuorum || args.leadershipTransfer || this.leaderId === null) return false;",
    replace: "    if (!this.config.checkQuorum || this.leaderId === null) return false;",
    chaosCannotReach: "chaos transfers no leadership",
  },
  {
    name: "timeout-now-before-caught-up",
    rule: "§3.10, step 2: the target's log is brought up to date before TimeoutNow",
    find: "    if (this.matchIndex.get(transfer.target) !== this.lastLogIndex()) return;\n",
    replace: "",
    chaosCannotReach: "chaos transfers no leadership",
  },
  {
    name: "commands-taken-during-a-transfer",
    rule: "§3.10, step 1: a leader handing over takes no new commands",
    find: "    if (this.transfer !== null) {\n      const refused",
    replace: "    if (false) {\n      const refused",
    chaosCannotReach: "chaos transfers no leadership",
  },
  {
    name: "read-without-confirming-leadership",
    rule: "§6.4, step 2: a majority answers a heartbeat round sent after the read arrived",
    find: "      if (!this.isMajority(1 + answered.length)) continue;\n",
    replace: "",
  },
  {
    name: "read-before-an-entry-of-the-term-commits",
    rule: "§6.4, step 1: the read index is taken once an entry of the leader's term has committed",
    find: "    if (this.termAt(this.commitIndex) !== this.currentTerm) return; // see setCommitIndex\n",
    replace: "",
  },
  {
    name: "follower-reads-before-applying",
    rule: "§6.4, step 4 on a follower: it applies through its leader's read index before it reads",
    find: "          if (reply.success) this.applyBeforeRead(read);",
    replace: "          if (reply.success) this.endRead(read, undefined);",
  },
  {
    name: "read-confirmed-by-earlier-heartbeats",
    rule: "§6.4, step 2: answers to heartbeats sent before the read arrived confirm nothing",
    find: "    read.round = this.heartbeatRound + 1;",
    replace: "    read.round = this.heartbeatRound;",
    chaosCannotReach:
      "only by rare luck: an answer sent before the read arrived must reach a leader deposed since, after a newer leader committed; rules-availability.test.ts pins it",
  },
  {
    name: "lease-read-ignores-the-drift-bound",
    rule: "§6.4.1: the lease is an election timeout divided by (1 + clockDriftBound)",
    find: "    return start + this.config.electionTimeoutMinMs / (1 + this.config.clockDriftBound);",
    replace: "    return start + this.config.electionTimeoutMinMs;",
    chaosCannotReach: "chaos reads by ReadIndex only; rules-availability.test.ts pins the lease",
  },
  {
    name: "lease-read-during-a-transfer",
    rule: "§6.4.1 with §3.10: a transfer's target may be elected despite the vote lease",
    find: "      this.transfer === null &&\n",
    replace: "",
    chaosCannotReach: "chaos reads by ReadIndex only; rules-availability.test.ts pins the lease",
  },
  {
    name: "lease-read-without-check-quorum",
    rule: "§6.4.1: without CheckQuorum's vote lease a leader has no lease",
    find: "    if (!this.config.checkQuorum) return 0;\n",
    replace: "",
    chaosCannotReach: "chaos reads by ReadIndex only; rules-availability.test.ts pins the lease",
  },
  {
    name: "leader-counts-itself-before-durable",
    rule: "§10.2.1: the leader counts itself toward a majority only once its write is durable",
    find: "const own = Math.min(this.durableIndex, this.lastLogIndex());",
    replace: "const own = this.lastLogIndex();",
  },
];

const HELP = `usage: pnpm --filter ${partName} test:mutants [--only <text>] [--seeds <n>] [--jobs <n>]

Runs the suite against each mutant of src/ (or those whose name contains --only), and the
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
  // Each edit must apply to the source as it is now, before an hour goes into running them.
  for (const m of chosen)
    mutated(readFileSync(path.join(partDir, m.file ?? "src/raft.ts"), "utf8"), m);
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
    mutate(path.join(scratch, mutant.file ?? "src/raft.ts"), mutant);
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
  writeFileSync(file, mutated(readFileSync(file, "utf8"), mutant));
}

/** `source` with the mutant's edit made; throws unless its text occurs exactly once. */
function mutated(source: string, mutant: Mutant): string {
  const at = source.indexOf(mutant.find);
  if (at < 0 || source.indexOf(mutant.find, at + 1) >= 0) {
    const file = mutant.file ?? "src/raft.ts";
    throw new Error(`mutant ${mutant.name}: its text must occur exactly once in ${file}`);
  }
  return source.replace(mutant.find, mutant.replace);
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
