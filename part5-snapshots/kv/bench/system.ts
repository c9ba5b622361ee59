// What the benchmark drives: a key/value cluster of three local processes, ours or etcd, seen
// through the same few calls so that one load runs against both.

export interface System {
  name: string;
  /** Client `client` writes `value` under `key`; throws if it did not. */
  put(client: number, key: string, value: string): Promise<void>;
  /** Client `client` reads `key` (linearizably); throws if it could not. */
  get(client: number, key: string): Promise<void>;
  /** Disk syncs so far, summed over the members, and the highest commit index among them. */
  counters(): Promise<Counters>;
  /** Closes the clients' connections (the processes are stopped by Processes). */
  close(): void;
}

export interface Counters {
  syncs: number;
  committed: number;
}
