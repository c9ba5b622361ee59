// Writes a long, plausible trace without running Raft: terms of steady heartbeats and replicated
// commands, each term ended by isolating the leader, so the rows exercise every lane state
// (roles, cut off, groups), message linking, batches and the state view's logs. Used by the
// benchmark. Events follow part2-replication's trace types (src/kinds.ts checks them).

interface Line {
  t: number;
  node: number | null;
  term: number | null;
  role: string | null;
  kind: string;
  details: Record<string, unknown>;
}

/** Heartbeat rounds per term, and a command replicated every this many rounds. */
const ROUNDS = 40;
const COMMAND_EVERY = 5;

class Synth {
  readonly out: Line[] = [];
  t = 0;
  msg = 0;
  term = 0;
  log: { term: number; command: string }[] = [];
  readonly nodes: number[];

  constructor(nodes: number[]) {
    this.nodes = nodes;
  }

  harness(kind: string, details: Record<string, unknown>): void {
    this.out.push({ t: this.t, node: null, term: null, role: null, kind, details });
  }

  at(node: number, role: string, kind: string, details: Record<string, unknown>): void {
    this.out.push({ t: this.t, node, term: this.term, role, kind, details });
  }

  network(cutOff: number[]) {
    const live = this.nodes.filter((n) => !cutOff.includes(n));
    const groups = cutOff.length === 0 ? [this.nodes] : [live, cutOff];
    return { network: { groups, cutOff, dead: [] } };
  }

  /** A request from `from` to `to`, its delivery, the reply and the reply's delivery. */
  exchange(from: number, to: number, rpc: string, payload: Record<string, unknown>): void {
    const { entries } = payload;
    const heartbeat = Array.isArray(entries) && entries.length === 0;
    const request = ++this.msg;
    const common = { rpc, heartbeat, bytes: JSON.stringify(payload).length };
    this.at(from, "leader", "send", { ...common, msg: request, type: "request", to, payload });
    this.at(to, "follower", "deliver", { ...common, msg: request, type: "request", from, payload });
    const answer = {
      term: this.term,
      ...(rpc === "RequestVote" ? { voteGranted: true } : { success: true }),
    };
    const reply = { ...common, msg: ++this.msg, type: "reply", request, payload: answer };
    this.at(to, "follower", "send", { ...reply, to: from });
    this.at(from, "leader", "deliver", { ...reply, from: to });
  }

  election(leader: number): void {
    this.term++;
    this.t += 150;
    const reason = "election timeout";
    this.at(leader, "follower", "term", { from: this.term - 1, to: this.term, reason });
    this.at(leader, "candidate", "role", { from: "follower", to: "candidate", reason });
    const ask = {
      term: this.term,
      candidateId: leader,
      lastLogIndex: this.log.length,
      lastLogTerm: this.log.at(-1)?.term ?? 0,
    };
    for (const peer of this.others(leader)) this.exchange(leader, peer, "RequestVote", ask);
    this.at(leader, "leader", "role", {
      from: "candidate",
      to: "leader",
      reason: "won the election",
    });
  }

  /** One heartbeat round, carrying a new command every COMMAND_EVERY rounds. */
  round(leader: number, beat: number): void {
    this.t += 50;
    const entries =
      beat % COMMAND_EVERY === 0 ? [{ term: this.term, command: `c${this.log.length + 1}` }] : [];
    const prevLogIndex = this.log.length;
    if (entries.length > 0) {
      this.at(leader, "leader", "log.append", { index: prevLogIndex + 1, entries });
      this.log.push(...entries);
    }
    const payload = {
      term: this.term,
      leaderId: leader,
      prevLogIndex,
      prevLogTerm: this.log[prevLogIndex - 1]?.term ?? 0,
      entries,
      leaderCommit: prevLogIndex,
    };
    for (const peer of this.others(leader)) {
      this.exchange(leader, peer, "AppendEntries", payload);
      if (entries.length > 0)
        this.at(peer, "follower", "log.append", { index: prevLogIndex + 1, entries });
    }
    if (entries.length > 0) {
      const to = this.log.length;
      this.at(leader, "leader", "commit", { from: to - 1, to, reason: "stored on a majority" });
      this.at(leader, "leader", "apply", { index: to, ...entries[0]! });
    }
  }

  /** The leader is cut off, its next heartbeat is dropped, it comes back and steps down. */
  depose(leader: number): void {
    this.harness("isolate", { node: leader, ...this.network([leader]) });
    this.t += 10;
    const payload = { term: this.term, leaderId: leader, entries: [] };
    const details = {
      msg: ++this.msg,
      rpc: "AppendEntries",
      type: "request",
      heartbeat: true,
      bytes: 40,
      payload,
      to: this.others(leader)[0],
    };
    this.at(leader, "leader", "send", details);
    this.at(leader, "leader", "drop", { ...details, reason: "link cut" });
    this.harness("reconnect", { node: leader, ...this.network([]) });
    this.at(leader, "follower", "role", {
      from: "leader",
      to: "follower",
      reason: "saw a higher term",
    });
  }

  others(leader: number): number[] {
    return this.nodes.filter((n) => n !== leader);
  }
}

export function synthTrace(events: number, nodes = [0, 1, 2, 3, 4]): string {
  const s = new Synth(nodes);
  s.harness("test.start", {
    test: "synthetic > long run",
    file: "tools/testlog-viz/bench/synth.ts",
    part: "bench",
    seed: 1,
    nodes,
    replay: "pnpm --filter testlog-viz bench",
    render: "-",
    config: { raft: {}, network: {} },
  });
  while (s.out.length < events - 1) {
    const leader = nodes[(s.term + 1) % nodes.length]!;
    s.election(leader);
    for (let beat = 0; beat < ROUNDS && s.out.length < events - 1; beat++) s.round(leader, beat);
    s.depose(leader);
  }
  s.harness("test.end", { result: "pass" });
  return `${s.out.map((line) => JSON.stringify(line)).join("\n")}\n`;
}
