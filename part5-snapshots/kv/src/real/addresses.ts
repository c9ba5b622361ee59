// Where the nodes of a cluster are: `host:port` addresses by node id, as the command line gives
// them to a node (`--cluster`) and to the client (`--nodes`). Either `id=host:port,...` or a plain
// `host:port,...`, whose ids are then 0, 1, 2... in the order given (what `pnpm kv:cluster` starts).

/** The largest node id: message ids fold the node id into a number (see trace-file.ts). */
export const MAX_NODE_ID = 89;

export interface Address {
  host: string;
  port: number;
}

/** Node ids to addresses, in id order. */
export type ClusterMap = Map<number, Address>;

/** `host:port` → Address, or why not. `[::1]:7000` for IPv6. */
export function parseAddress(text: string): Address | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return `"${text}" is not host:port (e.g. 127.0.0.1:7000)`;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${port} in "${text}" is not in 1..65535`;
  return { host: (match[1] ?? match[2])!, port };
}

/** `id=host:port,...` or `host:port,...` → a cluster map, or why not. */
export function parseClusterMap(text: string): ClusterMap | string {
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) return "no node given: say id=host:port,... or host:port,...";
  const map: ClusterMap = new Map();
  for (const [position, item] of items.entries()) {
    const eq = item.indexOf("=");
    const idText = eq < 0 ? String(position) : item.slice(0, eq).trim();
    const id = Number(idText);
    if (!/^\d+$/.test(idText) || id > MAX_NODE_ID) {
      return `node id "${idText}" in "${item}" is not a whole number in 0..${MAX_NODE_ID}`;
    }
    if (map.has(id)) return `node id ${id} is given twice`;
    const address = parseAddress(eq < 0 ? item : item.slice(eq + 1));
    if (typeof address === "string") return address;
    map.set(id, address);
  }
  return new Map([...map].sort(([a], [b]) => a - b));
}

/** `host:port`, bracketing an IPv6 host. */
export function formatAddress(address: Address): string {
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** The map as `--cluster` takes it. */
export function formatClusterMap(map: ClusterMap): string {
  return [...map].map(([id, address]) => `${id}=${formatAddress(address)}`).join(",");
}

export function urlOf(address: Address, path: string): string {
  return `http://${formatAddress(address)}${path}`;
}
