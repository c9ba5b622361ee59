// Writes a long, plausible trace without running Raft: terms of steady heartbeats, each ended
// by isolating the leader, so the rows exercise every lane state (roles, cut off, dead) and
// message linking. Used by the benchmark and by the browser test of lazy drawing.

interface Line {
  t: number;
  node: number | null;
  term: number | null;
  role: string | null;
  kind: string;
  details: Record<string, unknown>;
}

export function synthTrace(events: number, nodes = [0, 1, 2, 3, 4]): string {
  const out: Line[] = [];
  let t = 0;
  let msg = 0;
  let term = 0;
  const harness = (kind: string, details: Record<string, unknown>) =>
    out.push({ t, node: null, term: null, role: null, kind, details });
  const at = (node: number, role: string, kind: string, details: Record<string, unknown>) =>
    out.push({ t, node, term, role, kind, details });
  harness("test.start", {
    test: "synthetic > long run",
    part: "bench",
    seed: 1,
    nodes,
    replay: "pnpm --filter testlog-viz bench",
    render: "-",
    config: {},
  });
  while (out.length < events - 1) {
    term++;
    const leader = nodes[term % nodes.length]!;
    const others = nodes.filter((n) => n !== leader);
    t += 150;
    at(leader, "candidate", "role", {
      from: "follower",
      to: "candidate",
      reason: "election timeout",
    });
    for (const peer of others) exchange(peer, "RequestVote", false);
    at(leader, "leader", "role", { from: "candidate", to: "leader", reason: "won the election" });
    for (let beat = 0; beat < 40 && out.length < events - 1; beat++) {
      t += 50;
      for (const peer of others) exchange(peer, "AppendEntries", true);
    }
    harness("isolate", { node: leader, cutOff: [leader], dead: [] });
    t += 10;
    at(leader, "leader", "send", {
      msg: ++msg,
      to: others[0],
      rpc: "AppendEntries",
      type: "request",
      heartbeat: true,
    });
    at(leader, "leader", "drop", {
      msg,
      to: others[0],
      rpc: "AppendEntries",
      type: "request",
      heartbeat: true,
      reason: "link cut",
    });
    harness("reconnect", { node: leader, cutOff: [], dead: [] });
    at(leader, "follower", "role", { from: "leader", to: "follower", reason: "saw a higher term" });
  }
  harness("test.end", { result: "pass" });
  return `${out.map((line) => JSON.stringify(line)).join("\n")}\n`;

  /** A request from the leader to peer, its delivery, the reply and the reply's delivery. */
  function exchange(peer: number, rpc: string, heartbeat: boolean) {
    const leader = nodes[term % nodes.length]!;
    const role = out.at(-1)?.node === leader ? out.at(-1)!.role! : "leader";
    const request = ++msg;
    at(leader, role, "send", {
      msg: request,
      to: peer,
      rpc,
      type: "request",
      heartbeat,
      payload: { term },
    });
    at(peer, "follower", "deliver", {
      msg: request,
      from: leader,
      rpc,
      type: "request",
      heartbeat,
      payload: { term },
    });
    const reply = ++msg;
    at(peer, "follower", "send", {
      msg: reply,
      to: leader,
      rpc,
      type: "reply",
      request,
      heartbeat,
      payload: { term, ok: true },
    });
    at(leader, role, "deliver", {
      msg: reply,
      from: peer,
      rpc,
      type: "reply",
      request,
      heartbeat,
      payload: { term, ok: true },
    });
  }
}
