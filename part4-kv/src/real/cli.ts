// `pnpm kv get|put|append|cas|delete|status`: the command-line client. It is RealClient (KvClient
// on HTTP) run once: one operation, exactly once however often it retries, then an exit status a
// script can test. `usage` below lists the commands and options.

import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { ClientError } from "../kv/client.ts";
import { type KvCommand, type KvResult, parseCommand } from "../kv/commands.ts";
import { describeResult } from "../trace.ts";
import { type ClusterMap, formatAddress, parseClusterMap } from "./addresses.ts";
import { freshSeed } from "./clock.ts";
import { call } from "./http.ts";
import { DEFAULT_CLUSTER, UsageError, userPath, whole } from "./node-main.ts";
import { RealClient } from "./real-client.ts";
import { processStart, TraceFile } from "./trace-file.ts";

const usage = `usage: pnpm kv <command> [options]

  get <key>                      print the key's value
  put <key> <value>              write it
  append <key> <value>           append to it
  cas <key> <expected> <value>   write <value> if the key holds <expected>
  cas <key> --absent <value>     write <value> if the key does not exist
  delete <key>                   delete it
  status                         each node's role, term, leader, commit index and log length

  --nodes <list>    where the cluster is: host:port,... (node ids 0, 1, 2... in that order) or
                    id=host:port,... (default: $KV_NODES, else ${DEFAULT_CLUSTER})
  --timeout <ms>    give up after this long, retries included (default 10000)
  --client <id>     the session id that makes retries safe (default: a new one)
  --json            print the node's whole result as JSON
  --trace <file>    append this client's events to <file> (JSON lines, docs/trace-format.md)

Exit status: 0 done; 1 a cas did not swap; 2 usage error; 3 failed, and it did not take effect
(nothing was written); 4 failed, and it may have taken effect (or may still).`;

export const EXIT = { done: 0, notSwapped: 1, usage: 2, notDone: 3, maybeDone: 4 } as const;

const options = {
  nodes: { type: "string" },
  timeout: { type: "string", default: "10000" },
  client: { type: "string" },
  json: { type: "boolean", default: false },
  trace: { type: "string" },
  absent: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>["values"];

/** The command line's operation, checked as a node would check it. */
function commandOf(words: string[], absent: boolean): KvCommand {
  const [op, key, ...rest] = words;
  const need = (n: number, form: string) => {
    if (rest.length !== n) throw new UsageError(`${op} takes ${form}`);
  };
  let command: unknown;
  if (op === "get" || op === "delete") {
    need(0, "<key>");
    command = { op, key };
  } else if (op === "put" || op === "append") {
    need(1, "<key> <value>");
    command = { op, key, value: rest[0] };
  } else if (op === "cas") {
    need(absent ? 1 : 2, absent ? "<key> --absent <value>" : "<key> <expected> <value>");
    command = { op, key, expected: absent ? null : rest[0], value: rest.at(-1) };
  } else {
    throw new UsageError(op === undefined ? "no command given" : `unknown command "${op}"`);
  }
  if (key === undefined) throw new UsageError(`${op} needs a <key>`);
  const parsed = parseCommand(command);
  if (typeof parsed === "string") throw new UsageError(parsed);
  return parsed;
}

function clusterOf(values: Values): ClusterMap {
  const text = values.nodes ?? process.env.KV_NODES ?? DEFAULT_CLUSTER;
  const cluster = parseClusterMap(text);
  if (typeof cluster === "string") throw new UsageError(`--nodes: ${cluster}`);
  return cluster;
}

/** Runs the command line; resolves with the exit status. */
export async function cliMain(argv: string[]): Promise<number> {
  let values: Values;
  let words: string[];
  try {
    ({ values, positionals: words } = parseArgs({ args: argv, options, allowPositionals: true }));
    if (values.help) {
      console.log(usage);
      return EXIT.done;
    }
    if (words[0] === "status" && words.length === 1)
      return await status(clusterOf(values), values.json);
    const command = commandOf(words, values.absent);
    return await runCommand(command, clusterOf(values), values);
  } catch (error) {
    // parseArgs says what is wrong with the command line in a TypeError with an ERR_PARSE_ARGS code.
    const parseError = String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS");
    if (!(error instanceof UsageError) && !parseError) throw error;
    console.error(`${(error as Error).message}\n\n${usage}`);
    return EXIT.usage;
  }
}

async function runCommand(
  command: KvCommand,
  cluster: ClusterMap,
  values: Values,
): Promise<number> {
  const id = values.client ?? `cli-${freshSeed().toString(36)}`;
  const deadlineMs = whole(values.timeout, "--timeout", 1);
  const seed = freshSeed(); // of the backoff's jitter
  const trace =
    values.trace === undefined
      ? undefined
      : new TraceFile(userPath(values.trace), { append: true });
  trace?.write({
    node: null,
    term: null,
    role: null,
    kind: "process.start",
    details: processStart("client", {
      client: id,
      seed,
      nodes: Object.fromEntries([...cluster].map(([n, a]) => [n, formatAddress(a)])),
    }),
  });
  const client = new RealClient({
    id,
    cluster,
    trace,
    seed,
    deadlineMs,
    attemptTimeoutMs: Math.min(3000, deadlineMs),
  });
  try {
    const result = await client.run(command);
    return printResult(command, result, values.json);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    console.error(failureText(error, cluster, client.transport.answered));
    return error.definite ? EXIT.notDone : EXIT.maybeDone;
  } finally {
    client.close();
    trace?.close();
  }
}

function printResult(command: KvCommand, result: KvResult, json: boolean): number {
  const notSwapped = command.op === "cas" && result.ok !== true;
  if (json) console.log(JSON.stringify(result));
  else if (command.op === "get") {
    if (result.value === null) console.error(`${JSON.stringify(command.key)} does not exist`);
    else console.log(result.value);
  } else console.log(`${command.op} ${JSON.stringify(command.key)}: ${describeResult(result)}`);
  return notSwapped ? EXIT.notSwapped : EXIT.done;
}

function failureText(error: ClientError, cluster: ClusterMap, answered: number): string {
  if (answered > 0) return error.message;
  const where = [...cluster.values()].map(formatAddress).join(", ");
  return (
    `no node answered at ${where}.\n` +
    "Is the cluster running? Start one with `pnpm kv:cluster`, or say where it is with " +
    "--nodes host:port,... (or KV_NODES).\n" +
    `(${error.message})`
  );
}

/** Every node's /status, one line each (or the JSON); exit 3 if none answers. */
async function status(cluster: ClusterMap, json: boolean): Promise<number> {
  const agent = new Agent();
  const lines = await Promise.all(
    [...cluster].map(async ([id, address]) => {
      const where = `n${id} ${formatAddress(address)}`;
      try {
        const answer = await call(agent, address, "/status", undefined, {
          timeoutMs: 2000,
          limit: 65536,
        });
        const s = JSON.parse(answer.body.toString()) as Record<string, unknown>;
        if (json) return { ok: true, line: JSON.stringify(s) };
        const leader = s.leader === null ? "none known" : `n${s.leader}`;
        return {
          ok: true,
          line: `${where}  ${s.role} in term ${s.term}, leader ${leader}, commit index ${s.commitIndex}, log length ${s.logLength}`,
        };
      } catch (error) {
        return {
          ok: false,
          line: json
            ? JSON.stringify({ id, error: (error as Error).message })
            : `${where}  no answer (${(error as Error).message})`,
        };
      }
    }),
  );
  agent.destroy();
  for (const { line } of lines) console.log(line);
  return lines.some((l) => l.ok) ? EXIT.done : EXIT.notDone;
}
