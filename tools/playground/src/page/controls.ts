// What the reader can do to the cluster: the panel beside the picture, built from the part's
// capabilities (src/parts.ts). Each control makes one action (engine/actions.ts) and hands it to
// the session, which applies it at the gate the simulation stands at and writes it in the link.

import type { Action, Session } from "../engine/api.ts";
import { CLIENTS } from "../parts.ts";
import { button, byId, el, input, onSubmit, option, select } from "./dom.ts";

export class Controls {
  private readonly session: Session;
  private selected = 0;
  private readonly nodes: number[];
  /** Called when the reader picks a node here, so the picture marks it too. */
  onSelect: (node: number) => void = () => {};

  constructor(session: Session, nodes: readonly number[]) {
    this.session = session;
    this.nodes = [...nodes];
    const { info } = session.runtime;
    byId("client-actions", HTMLFieldSetElement).hidden = info.commands === "none";
    byId("submit-form", HTMLFormElement).hidden = info.commands !== "submit";
    byId("kv-form", HTMLFormElement).hidden = info.commands !== "kv";
    // How a free session's nodes differ from the part's defaults (a test keeps its own).
    const note = byId("part-note", HTMLElement);
    note.textContent = info.session?.note ?? "";
    note.hidden = info.session === undefined || session.mode !== "free";
    select("kv-client").replaceChildren(...CLIENTS.map((c) => option(c, c)));
    for (const id of ["link-from", "link-to"]) {
      select(id).replaceChildren(...this.nodes.map((n) => option(String(n), `n${n}`)));
    }
    if (this.nodes.length > 1) select("link-to").value = String(this.nodes[1]);
    this.buildNodes();
    this.wireNetwork();
    this.wireClients();
  }

  /** Applies an action, or says why it cannot be done. */
  act(action: Action): void {
    const status = byId("action-error", HTMLElement);
    try {
      this.session.act(action);
      status.textContent = "";
    } catch (error) {
      status.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  select(node: number): void {
    this.selected = node;
    for (const b of byId("node-pick", HTMLElement).querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.node === String(node)));
    }
    this.refresh();
  }

  private buildNodes(): void {
    const pick = byId("node-pick", HTMLElement);
    pick.replaceChildren(
      ...this.nodes.map((n) => {
        const b = el("button", "", `n${n}`);
        b.type = "button";
        b.dataset.node = String(n);
        b.addEventListener("click", () => {
          this.select(n);
          this.onSelect(n);
        });
        return b;
      }),
    );
    const { info } = this.session.runtime;
    const actions: [string, string, (n: number) => Action, boolean][] = [
      ["crash", "crash", (node) => ({ kind: "crash", node }), true],
      ["restart", "restart", (node) => ({ kind: "restart", node }), info.crash === "restart"],
      ["isolate", "isolate", (node) => ({ kind: "isolate", node }), true],
      ["reconnect", "reconnect", (node) => ({ kind: "reconnect", node }), true],
      ["timeout", "time out", (node) => ({ kind: "timeout", node }), true],
      [
        "submit-here",
        "submit here",
        (node) => ({ kind: "submit", node, command: input("command").value }),
        info.commands === "submit",
      ],
      [
        "snapshot",
        "take a snapshot",
        (node) => ({ kind: "snapshot", node }),
        info.snapshot === true,
      ],
      [
        "transfer",
        "make it leader",
        (node) => ({ kind: "transfer", node }),
        info.transfer === true,
      ],
      ["read", "read here", (node) => ({ kind: "read", node }), info.reads === true],
    ];
    byId("node-buttons", HTMLElement).replaceChildren(
      ...actions
        .filter(([, , , shown]) => shown)
        .map(([id, label, make]) => {
          const b = el("button", "", label);
          b.type = "button";
          b.id = `node-${id}`;
          b.addEventListener("click", () => this.act(make(this.selected)));
          return b;
        }),
    );
    this.select(this.nodes[0] ?? 0);
  }

  private wireNetwork(): void {
    onSubmit("partition-form", () => {
      const text = input("groups").value.trim();
      const groups = text.split("|").map((g) =>
        g
          .trim()
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number),
      );
      if (groups.some((g) => g.length === 0 || g.some((n) => !Number.isInteger(n)))) {
        byId("action-error", HTMLElement).textContent =
          'groups are node numbers, groups split by "|": 0 1 | 2 3 4';
        return;
      }
      this.act({ kind: "partition", groups });
    });
    button("heal").addEventListener("click", () => this.act({ kind: "heal" }));
    const link = () => ({
      from: Number(select("link-from").value),
      to: Number(select("link-to").value),
    });
    button("cut").addEventListener("click", () => this.act({ kind: "cut", ...link() }));
    button("uncut").addEventListener("click", () => this.act({ kind: "uncut", ...link() }));
    button("slow").addEventListener("click", () =>
      this.act({ kind: "slow", ...link(), ms: Number(input("slow-ms").value) }),
    );
    onSubmit("loss-form", () => this.act({ kind: "loss", percent: Number(input("loss").value) }));
  }

  private wireClients(): void {
    onSubmit("submit-form", () =>
      this.act({ kind: "submit", node: -1, command: input("command").value }),
    );
    onSubmit("kv-form", () => {
      const client = select("kv-client").value;
      const key = input("kv-key").value;
      const op = select("kv-op").value;
      const value = input("kv-value").value;
      this.act(
        op === "get"
          ? { kind: "get", client, key }
          : { kind: op === "append" ? "append" : "put", client, key, value },
      );
    });
    select("kv-op").addEventListener("change", () => {
      input("kv-value").disabled = select("kv-op").value === "get";
    });
  }

  /** Enables what can be done now: nothing while the test drives, crash or restart by the node's state. */
  refresh(): void {
    const can = this.session.canAct();
    for (const id of ["node-actions", "network-actions", "client-actions"]) {
      byId(id, HTMLFieldSetElement).disabled = !can;
    }
    const cluster = this.session.cluster;
    if (!can || cluster === null) return;
    const { role } = cluster.state(this.selected);
    const toggle = (id: string, enabled: boolean) => {
      const b = document.getElementById(`node-${id}`);
      if (b instanceof HTMLButtonElement) b.disabled = !enabled;
    };
    toggle("crash", role !== "dead");
    toggle("restart", role === "dead");
    toggle("timeout", role === "follower" || role === "candidate");
    toggle("snapshot", role !== "dead");
    toggle("transfer", role !== "leader");
    toggle("read", role !== "dead");
  }
}
