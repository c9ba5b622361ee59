// The page: reads the session from the address (engine/spec.ts), loads the part's bundle (a
// classic script, as pages opened from file:// cannot load modules), starts the session, and
// draws it once a frame: the picture at the moment shown, the trace up to it, the violation. It
// loads nothing but its own files and sends nothing anywhere.

import { ClusterView } from "testlog-viz/src/page/cluster-view.ts";
import type { Engine, Session, SessionSpec, TraceEventLike } from "../engine/api.ts";
import { fromFragment, toFragment } from "../engine/spec.ts";
import { PARTS, SIZES } from "../parts.ts";
import { Controls } from "./controls.ts";
import { button, byId, el, input, onSubmit, option, select } from "./dom.ts";
import { showViolation, TraceList } from "./trace-list.ts";

/** Speeds, in virtual ms per real ms. */
const SPEEDS: [string, number][] = [
  ["1/100×", 0.01],
  ["1/30×", 1 / 30],
  ["1/10×", 0.1],
  ["1/3×", 1 / 3],
  ["1× (real time)", 1],
  ["as fast as it goes", Number.POSITIVE_INFINITY],
];
const DEFAULT_SPEED = 1;

/** Bugs worth trying first, and how to make each one show. */
const CLASSIC: Record<string, string> = {
  "majority-counted-with->=": "try 4 nodes and the partition 0 1 | 2 3: each half elects a leader",
  "second-vote-in-a-term": "time out two followers at once: one of them may get two votes",
  "no-election-restriction": "commit entries while one node is isolated, then let it lead",
  "earlier-term-committed-by-counting":
    "Figure 8: a leader commits an entry of an older term by counting copies",
  "vote-not-saved": "crash a node right after it votes, restart it: it may vote again",
};

function readSpec(): { spec: SessionSpec; problem: string | null } {
  try {
    return { spec: fromFragment(location.hash), problem: null };
  } catch (error) {
    return {
      spec: fromFragment(""),
      problem: `the link could not be read: ${(error as Error).message}`,
    };
  }
}

/** Loads parts/<part>.js and returns what it leaves behind. */
function loadPart(part: string): Promise<Engine> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `parts/${part}.js`;
    script.onload = () => {
      const engine = (globalThis as { raftPlaygroundPart?: Promise<Engine> }).raftPlaygroundPart;
      if (engine === undefined) reject(new Error(`parts/${part}.js did not load the part`));
      else engine.then(resolve, reject);
    };
    script.onerror = () =>
      reject(new Error(`parts/${part}.js is missing: build the playground again`));
    document.head.append(script);
  });
}

/** Starts the session a new spec describes: the page reloads with its link. */
function go(spec: SessionSpec): void {
  location.hash = toFragment(spec);
  location.reload();
}

/** The seed in the form: a scenario runs under it as a test runs under RAFT_SEED. */
const chosenSeed = () => Math.max(0, Math.trunc(Number(input("seed").value) || 0));

function fillSetup(spec: SessionSpec): void {
  select("part").replaceChildren(...PARTS.map((p) => option(p.name, p.title)));
  select("part").value = spec.part;
  select("nodes").replaceChildren(...SIZES.map((n) => option(String(n), String(n))));
  select("nodes").value = String(spec.nodes);
  input("seed").value = String(spec.seed);
  select("speed").replaceChildren(...SPEEDS.map(([label, v]) => option(String(v), label)));
  select("speed").value = String(SPEEDS[DEFAULT_SPEED]![1]);
  fillSwitches(spec.part, spec.off);
  select("part").addEventListener("change", () => fillSwitches(select("part").value, []));
  onSubmit("setup", () => {
    const part = select("part").value;
    go({
      ...fromFragment(""),
      part,
      nodes: Number(select("nodes").value),
      seed: chosenSeed(),
      mutant: part === spec.part ? select("mutant").value || null : null,
      off: [...byId("switches", HTMLElement).querySelectorAll("input")]
        .filter((box) => !box.checked)
        .map((box) => box.name),
    });
  });
}

/** The part's options (part 6's) as checkboxes, on unless the session turned them off. */
function fillSwitches(part: string, off: readonly string[]): void {
  const switches = PARTS.find((p) => p.name === part)?.switches ?? [];
  byId("switches", HTMLElement).replaceChildren(
    ...switches.map((s) => {
      const box = el("input");
      box.type = "checkbox";
      box.name = s.name;
      box.id = `switch-${s.name}`;
      box.checked = !off.includes(s.name);
      const label = el("label", "switch");
      label.title = s.title;
      label.append(box, ` ${s.label}`);
      return label;
    }),
  );
}

function fillMutants(spec: SessionSpec, mutants: { name: string; rule: string }[]): void {
  const classic = el("optgroup");
  classic.label = "classic bugs";
  const more = el("optgroup");
  more.label = "more bugs the suite catches";
  for (const m of mutants)
    (CLASSIC[m.name] ? classic : more).append(option(m.name, m.name, m.rule));
  select("mutant").append(...[classic, more].filter((g) => g.children.length > 0));
  select("mutant").value = spec.mutant ?? "";
}

function fillScenarios(session: Session, spec: SessionSpec): void {
  const catalog = session.runtime.catalog;
  const scenarios = select("scenario");
  scenarios.replaceChildren(option("", "choose one of the part's tests"));
  for (const file of catalog?.files ?? []) {
    const group = el("optgroup");
    group.label = file.file.replace(/^[^/]+\/test\//, "");
    for (const t of file.tests) group.append(option(JSON.stringify([file.file, t.name]), t.name));
    scenarios.append(group);
  }
  if (spec.scenario !== null)
    scenarios.value = JSON.stringify([spec.scenario.file, spec.scenario.test]);
  onSubmit("scenario-form", () => {
    if (scenarios.value === "") return;
    const [file, test] = JSON.parse(scenarios.value) as [string, string];
    go({
      ...fromFragment(""),
      part: spec.part,
      seed: chosenSeed(),
      mutant: select("mutant").value || null,
      scenario: { file, test },
    });
  });
  const excluded = catalog?.excluded ?? [];
  byId("excluded", HTMLElement).textContent =
    excluded.length === 0
      ? "Every test file of this part runs here."
      : `Left out (they need Node): ${excluded.map((e) => `${e.file} (${e.reason})`).join("; ")}.`;
}

/** Says who drives the cluster and what the chosen bug is. */
function driverText(session: Session, spec: SessionSpec): string {
  const bug =
    spec.mutant === null
      ? ""
      : ` Bug: ${spec.mutant}: ${session.runtime.mutants.find((m) => m.name === spec.mutant)?.rule ?? ""}.${CLASSIC[spec.mutant] ? ` Hint: ${CLASSIC[spec.mutant]}.` : ""}`;
  const who =
    session.mode === "scenario"
      ? `The test "${spec.scenario?.test}" drives the cluster: pause it and take it over to act yourself.`
      : session.mode === "taken over"
        ? "You took the cluster over from the test: it is yours to drive."
        : "You drive the cluster.";
  const off =
    spec.off.length === 0 || session.mode === "scenario"
      ? ""
      : ` Turned off: ${spec.off.map((name) => session.runtime.info.switches?.find((s) => s.name === name)?.label ?? name).join(", ")}.`;
  return who + bug + off;
}

async function boot(): Promise<void> {
  const { spec, problem } = readSpec();
  fillSetup(spec);
  if (problem !== null) byId("action-error", HTMLElement).textContent = problem;
  const engine = await loadPart(spec.part);
  const runtime = await engine.runtime;
  fillMutants(spec, runtime.mutants);
  const session = new engine.Session(runtime, spec);
  fillScenarios(session, spec);
  const chosen = () => Number(select("speed").value);
  // A link made at some moment plays there at full speed and waits; otherwise it plays as chosen.
  session.setSpeed(spec.at === null ? chosen() : Number.POSITIVE_INFINITY);
  session.start();
  new Page(engine, session, spec, chosen).run();
}

class Page {
  private shown = 0;
  private appended = 0;
  private clusterSeen = 0;
  private revealT: number | null = null;
  private hashed = -1;
  private readonly list: TraceList;
  /** testlog-viz's cluster view (a new one for each cluster a scenario starts). */
  private view: ClusterView;
  private controls: Controls | null = null;
  private readonly describe: (e: TraceEventLike) => string;
  private readonly engine: Engine;
  private readonly session: Session;
  private readonly spec: SessionSpec;
  private readonly chosenSpeed: () => number;
  private pendingStep = false;

  constructor(engine: Engine, session: Session, spec: SessionSpec, chosenSpeed: () => number) {
    this.engine = engine;
    this.session = session;
    this.spec = spec;
    this.chosenSpeed = chosenSpeed;
    this.describe = (e) => {
      try {
        return session.runtime.part.describe(e);
      } catch {
        return `${e.kind} ${JSON.stringify(e.details)}`;
      }
    };
    this.list = new TraceList(this.describe);
    this.view = this.makeView([]);
  }

  private makeView(nodes: readonly number[]): ClusterView {
    return new ClusterView(byId("view", HTMLElement), {
      nodes,
      clock: "virtual",
      onSelect: (s) => {
        if (s.kind !== "node") return;
        this.controls?.select(s.node);
        this.view.select(s.node);
      },
    });
  }

  run(): void {
    this.wireTransport();
    const frame = () => {
      this.draw();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  private wireTransport(): void {
    const s = this.session;
    button("play").addEventListener("click", () => this.playPause());
    button("step").addEventListener("click", () => this.step());
    select("speed").addEventListener("change", () => s.setSpeed(this.chosenSpeed()));
    button("take-over").addEventListener("click", () => s.takeOver());
    button("let-fail").addEventListener("click", () => s.resume());
    button("copy-link").addEventListener("click", () => this.copyLink());
    button("download").addEventListener("click", () => this.download());
    document.addEventListener("keydown", (e) => {
      if (e.target !== document.body || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === " ") this.playPause();
      else if (e.key === "s") this.step();
      else return;
      e.preventDefault();
    });
  }

  private playPause(): void {
    const s = this.session;
    if (s.phase === "running") {
      s.pause();
      return;
    }
    s.setSpeed(this.chosenSpeed());
    this.revealT = null;
    s.resume();
  }

  /** One more event: one already made but not shown yet, or the next the simulation makes. */
  private step(): void {
    const s = this.session;
    if (s.phase === "running") s.pause();
    if (this.shown < s.events.length) this.shown++;
    else {
      s.step();
      this.pendingStep = true;
    }
    this.revealT = s.events[this.shown - 1]?.t ?? 0;
  }

  private copyLink(): void {
    const link = this.session.link();
    const fragment = toFragment(link);
    history.replaceState(null, "", `#${fragment}`);
    const field = byId("link", HTMLInputElement);
    field.hidden = false;
    field.value = location.href;
    field.select();
    navigator.clipboard?.writeText(location.href).catch(() => {});
  }

  private download(): void {
    const s = this.session;
    const failed = s.violation !== null || s.test?.state === "fail";
    const error = s.violation
      ? `${s.violation.invariant}: ${s.violation.message}`
      : s.test?.errors[0];
    const text = this.engine.downloadText(s.events, { failed, error });
    const a = el("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    a.download = `playground-${this.spec.part}-seed${this.spec.seed}.jsonl`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  private draw(): void {
    const s = this.session;
    if (s.clusters !== this.clusterSeen && s.cluster !== null) this.newCluster(s.cluster.ids);
    const events = s.events;
    if (this.appended < events.length) {
      this.view.append(events.slice(this.appended));
      this.appended = events.length;
    }
    this.advance(events);
    const t = this.revealT ?? s.displayTime();
    this.showView(t);
    this.list.show(events, this.shown);
    showViolation(s, this.view, this.describe);
    this.drawStatus(t);
    this.controls?.refresh();
    void this.drawHash();
  }

  /**
   * The picture at what the reader sees: while the simulation runs, the display time (messages
   * travel between their send and their arrival); after a step, just after the event revealed.
   */
  private showView(t: number): void {
    const key = `${this.shown}@${this.revealT === null ? t : "step"}`;
    if (key === this.drawn) return;
    this.drawn = key;
    if (this.revealT === null) this.view.showAt({ t });
    else this.view.showAt({ index: this.shown - 1 }, { animate: true });
  }

  private drawn = "";

  private newCluster(ids: readonly number[]): void {
    this.clusterSeen = this.session.clusters;
    this.view.destroy();
    this.view = this.makeView(ids);
    this.drawn = "";
    this.list.reset();
    this.shown = 0;
    this.appended = 0;
    this.controls = new Controls(this.session, ids);
    this.controls.onSelect = (node) => this.view.select(node);
    this.controls.select(ids[0] ?? 0);
    this.view.select(ids[0] ?? 0);
  }

  /** How far the reader sees: up to the display time while running, everything once it holds. */
  private advance(events: readonly TraceEventLike[]): void {
    const s = this.session;
    // a step under way shows nothing until it holds, then one event more: a frame drawn between
    // its tasks (a busy machine draws fewer of them, later) must not show what it ran meanwhile
    if (this.pendingStep && s.phase === "running") return;
    if (this.pendingStep) {
      this.pendingStep = false;
      if (this.shown < events.length) this.shown++;
      this.revealT = events[this.shown - 1]?.t ?? 0;
      return;
    }
    if (s.phase === "violation" || s.phase === "ended") {
      this.shown = events.length;
      this.revealT = null;
      return;
    }
    if (s.phase === "running" || this.revealT === null) {
      const d = s.displayTime();
      while (this.shown < events.length && events[this.shown]!.t <= d) this.shown++;
    }
  }

  private drawStatus(t: number): void {
    const s = this.session;
    byId("clock", HTMLElement).textContent =
      `t = ${Math.round(t)} ms · gate ${s.gateNow()} · ${s.events.length} events${s.clusters > 1 ? ` · cluster ${s.clusters} of the test` : ""}`;
    const phase = byId("phase", HTMLElement);
    phase.className = s.phase;
    const test =
      s.test === null
        ? ""
        : ` · test ${s.test.state}${s.test.errors[0] ? `: ${s.test.errors[0].split("\n")[0]}` : ""}`;
    phase.textContent = `${s.phase === "violation" ? "VIOLATION" : s.phase}${test}`;
    phase.dataset.phase = s.phase;
    button("play").textContent = s.phase === "running" ? "pause" : "play";
    button("play").disabled = s.phase === "ended";
    button("step").disabled = s.phase === "ended" || s.phase === "violation";
    const take = button("take-over");
    take.hidden = s.mode !== "scenario" || s.test?.state !== "running";
    take.disabled = s.cluster === null;
    byId("driver", HTMLElement).textContent = driverText(s, this.spec);
  }

  /** The trace's hash, whenever the session holds (a test compares it with Node's). */
  private async drawHash(): Promise<void> {
    const s = this.session;
    const out = byId("hash", HTMLOutputElement);
    if (s.phase === "running") {
      out.textContent = "";
      delete out.dataset.hash;
      this.hashed = -1;
      return;
    }
    if (this.hashed === s.events.length) return;
    this.hashed = s.events.length;
    const hash = await this.engine.traceHash(s.events);
    if (this.hashed !== s.events.length) return; // more events came meanwhile: the next frame hashes them
    out.dataset.hash = hash;
    out.dataset.events = String(s.events.length);
    out.textContent = `sha256 ${hash.slice(0, 16)}…`;
    out.title = `SHA-256 of the trace's ${s.events.length} JSON lines: ${hash}`;
  }
}

boot().catch((error: unknown) => {
  byId("action-error", HTMLElement).textContent =
    `the playground could not start: ${(error as Error).message}`;
  console.error(error);
});
