// What the engine needs of a part, as types: the parts' own classes fit these shapes (each part's
// entry in src/parts/ hands them over), so the engine runs every part's real code without
// importing any part itself.

/** One trace event (docs/trace-format.md); the part's own types describe `details` exactly. */
export interface TraceEventLike {
  t: number;
  node: number | null;
  term: number | null;
  role: string | null;
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: details are typed by each part's trace module, not here
  details: any;
}

export interface ViolationLike {
  invariant: string;
  message: string;
  event: TraceEventLike;
}

/** A key/value client of part 4 on (its SimKvClient). */
export interface KvClientLike {
  get(key: string): Promise<unknown>;
  put(key: string, value: string): Promise<unknown>;
  append(key: string, value: string): Promise<unknown>;
}

/** A part's simulated cluster (its src/sim/cluster.ts SimCluster, or part 4's KvSimCluster). */
export interface SimClusterLike {
  readonly seed: number;
  readonly ids: readonly number[];
  readonly clock: { now(): number };
  readonly tracer: {
    readonly events: TraceEventLike[];
    subscribe(listener: (event: TraceEventLike) => void): void;
    // biome-ignore lint/suspicious/noExplicitAny: each part types its kinds; the engine emits harness kinds only
    emit(node: number | null, kind: any, details: any): void;
  };
  readonly network: { readonly config: { lossRate: number } };
  firstViolation: ViolationLike | undefined;
  startNodes(): void;
  runUntil(deadline: number, done?: () => boolean): Promise<boolean>;
  state(id: number): { role: string; currentTerm: number };
  isolate(id: number): void;
  reconnect(id: number): void;
  partition(...groups: number[][]): void;
  heal(): void;
  cut(from: number, to: number): void;
  uncut(from: number, to: number): void;
  slow(from: number, to: number, extraMs: number): void;
  crash(id: number): void;
  note(text: string): void;
  /** Part 3 on. */
  restart?(id: number): void;
  /** Part 2 on. */
  submitToServer?(id: number, command: unknown): unknown;
  /** Part 4 on: the whole trace (the nodes' events and the clients'), and its listeners. */
  readonly events?: TraceEventLike[];
  subscribe?(listener: (event: TraceEventLike) => void): void;
  client?(id: string): KvClientLike;
  readonly config?: unknown;
}

/** What a part's entry (src/parts/<part>.ts) gives the engine. */
export interface PartModule {
  name: string;
  /**
   * A cluster of `n` nodes for a free session, with the part's defaults and the session's
   * (`raft`: PartInfo.session's, and the switches turned off); not started.
   */
  createCluster(n: number, seed: number, raft?: Record<string, number | boolean>): SimClusterLike;
  /** The part's SimCluster class: the engine watches every cluster a test starts through it. */
  // biome-ignore lint/suspicious/noExplicitAny: a class of whatever constructor signature the part has
  clusterClass: { prototype: { startNodes(): void } } & (abstract new (...args: any[]) => unknown);
  /** The part's sentence for an event (its src/trace.ts `describe`). */
  describe(event: TraceEventLike): string;
  /** Part 5 on. */
  snapshot?(cluster: SimClusterLike, node: number): void;
  /** Part 6 on. */
  transfer?(cluster: SimClusterLike, to: number): void;
  /** Part 6 on: a linearizable read (ReadIndex) on node `id`; the trace shows how it goes. */
  read?(cluster: SimClusterLike, id: number): void;
}
