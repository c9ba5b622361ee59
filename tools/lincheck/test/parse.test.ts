import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HistoryError } from "../src/history.ts";
import { parseHistory, readHistory } from "../src/parse/index.ts";

function errorOf(text: string): HistoryError {
  try {
    parseHistory("h.txt", text);
  } catch (e) {
    expect(e).toBeInstanceOf(HistoryError);
    return e as HistoryError;
  }
  throw new Error("expected the history to be rejected");
}

const jepsen = (lines: string[]) => lines.map((l) => `INFO  jepsen.util - ${l}`).join("\n");

const header = '{"model": "kv"}';

describe("the JSON lines format", () => {
  it("reads operations, pending ones included", () => {
    const text = [
      header,
      '{"client": 1, "call": 0, "return": 2, "input": {"op": "put", "key": "a", "value": "x"}, "output": {}}',
      "",
      '{"client": "c2", "call": 1, "return": null, "input": {"op": "get", "key": "a"}}',
    ].join("\n");
    const h = parseHistory("h.jsonl", text);
    expect(h.model.name).toBe("kv");
    expect(h.operations).toEqual([
      {
        id: 0,
        client: "1",
        call: 0,
        ret: 2,
        input: { op: "put", key: "a", value: "x" },
        output: {},
        line: 2,
      },
      {
        id: 1,
        client: "c2",
        call: 1,
        ret: undefined,
        input: { op: "get", key: "a" },
        output: undefined,
        line: 4,
      },
    ]);
  });
});

describe("the JSON lines format: errors", () => {
  it.each([
    ['{"model": "queue"}', 1, "model"],
    [
      `${header}\n{"client": 1, "call": 0, "return": 2, "input": {"op": "get"}, "output": {"value": ""}}`,
      2,
      '"key"',
    ],
    [
      `${header}\n{"client": 1, "call": 3, "return": 2, "input": {"op": "get", "key": "a"}, "output": {"value": ""}}`,
      2,
      "before",
    ],
    [
      `${header}\n{"client": 1, "call": 0, "return": 2, "input": {"op": "get", "key": "a"}}`,
      2,
      '"output" is missing: an operation with a "return" needs the output the client saw',
    ],
    [
      `${header}\n{"client": 1, "call": 0, "input": {"op": "put", "key": "a", "value": "v"}, "output": {}}`,
      2,
      "unknown outcome",
    ],
    [
      `${header}\n{"client": 1, "call": 0, "return": 1, "input": {"op": "pop", "key": "a"}, "output": {}}`,
      2,
      '"op"',
    ],
    [`${header}\n{"client": 1, "call": 0,`, 2, "JSON"],
    [
      `${header}\n\n{"client": true, "call": 0, "return": 1, "input": {}, "output": {}}`,
      3,
      "client",
    ],
  ])("rejects %j naming line %i", (text, line, words) => {
    const e = errorOf(text);
    expect(e.line).toBe(line);
    expect(e.file).toBe("h.txt");
    expect(e.message).toContain(`h.txt:${line}:`);
    expect(e.message).toContain(words);
  });
});

describe("the Jepsen log format", () => {
  it("pairs invocations with completions per process and reads cas outcomes", () => {
    const h = parseHistory(
      "j.log",
      jepsen([
        "0\t:invoke\t:cas\t[1 2]",
        "1 :invoke :write 3",
        "0\t:fail\t:cas\t[1 2]",
        "1\t:info\t:write\t:timed-out",
        "2\t:invoke\t:read\tnil",
        "2\t:ok\t:read\tnil",
      ]),
    );
    expect(h.model.name).toBe("register");
    expect(h.operations.map((o) => [o.client, o.call, o.ret, o.input, o.output])).toEqual([
      ["0", 1, 3, { op: "cas", from: 1, to: 2 }, { ok: false }],
      ["1", 2, undefined, { op: "write", value: 3 }, undefined],
      ["2", 5, 6, { op: "read" }, { value: null }],
    ]);
  });

  it.each([
    [["0\t:invoke\t:read\tnil", "0\t:ok\t:write\t1"], 2, "completes a :read"],
    [["0\t:ok\t:read\t1"], 1, "never invoked"],
    [["0\t:invoke\t:read\tnil", "0\t:invoke\t:read\tnil"], 2, "invokes again"],
    [["0\t:invoke\t:cas\t3"], 1, "[from to]"],
    [["0\t:invoke\t:write\t[1"], 1, "missing"],
    [["0\t:launch\t:read\tnil"], 1, "cannot read"],
    [["0\t:invoke\t:write"], 1, "the :invoke :write has no value"],
    [["0\t:invoke\t:read\tnil", "0\t:ok\t:read"], 2, "the :ok :read has no value"],
    [['0\t:invoke\t:write\t"s"'], 1, "integer"],
  ])("rejects %j naming line %i", (lines, line, words) => {
    const e = errorOf(jepsen(lines));
    expect(e.line).toBe(line);
    expect(e.message).toContain(words);
  });
});

describe("the kv log format", () => {
  it("reads EDN maps in any key order", () => {
    const h = parseHistory(
      "k.txt",
      [
        '{:process 0, :type :invoke, :f :put, :key "a", :value "x"}',
        '{:type :ok, :process 0, :f :put, :key "a", :value "x"}',
        '{:process 1, :type :invoke, :f :get, :key "a", :value nil}',
        '{:process 1, :type :ok, :f :get, :key "a", :value "x\\"y"}',
      ].join("\n"),
    );
    expect(h.model.name).toBe("kv");
    expect(h.operations.map((o) => o.output)).toEqual([{}, { value: 'x"y' }]);
  });

  it.each([
    ['{:process 0, :type :invoke, :f :get, :key "a", :value nil', 1, "missing"],
    ["{:process 0, :type :invoke, :f :get, :value nil}", 1, ":key"],
    ['{:process 0, :type :invoke, :f :pop, :key "a", :value nil}', 1, ":f :pop"],
    [
      '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n{:process 0, :type :ok, :f :get, :key "a", :value 3}',
      2,
      ":value",
    ],
    ['{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n[1 2]', 2, "map"],
  ])("rejects %j naming line %i", (text, line, words) => {
    const e = errorOf(text);
    expect(e.line).toBe(line);
    expect(e.message).toContain(words);
  });
});

describe("files", () => {
  it("names a missing file", () => {
    expect(() => readHistory("/nonexistent/h.jsonl")).toThrow(
      /\/nonexistent\/h\.jsonl: cannot read: ENOENT/,
    );
  });

  it("rejects empty and unrecognisable files", () => {
    const dir = mkdtempSync(join(tmpdir(), "lincheck-"));
    writeFileSync(join(dir, "empty.txt"), "\n\n");
    writeFileSync(join(dir, "odd.txt"), "\nhello\n");
    expect(() => readHistory(join(dir, "empty.txt"))).toThrow(/empty\.txt: the file is empty/);
    expect(() => readHistory(join(dir, "odd.txt"))).toThrow(/odd\.txt:2: unrecognised format/);
  });
});

describe("errors that name what is wrong", () => {
  it("names a missing field as missing", () => {
    const line = (fields: string) => `${header}\n{${fields}}`;
    const get = '"input": {"op": "get", "key": "a"}, "output": {"value": ""}';
    expect(errorOf(line(`"client": 1, "return": 2, ${get}`)).message).toContain(
      '"call" is missing',
    );
    expect(errorOf(line('"client": 1, "call": 0')).message).toContain('"input" is missing');
    expect(errorOf(line('"client": 1, "call": 0, "input": {"key": "a"}')).message).toContain(
      '"op" is missing',
    );
    expect(
      errorOf(
        line(
          '"client": 1, "call": 0, "return": 2, "input": {"op": "get", "key": "a"}, "output": {}',
        ),
      ).message,
    ).toContain('"value" is missing');
  });

  it.each([
    ["jepsen", '{"model": "kv"}', "a lincheck JSON history, not a Jepsen log"],
    [
      "json",
      '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
      "a kv log, not a lincheck JSON history",
    ],
    ["kv", "INFO  jepsen.util - 0\t:invoke\t:read\tnil", "a Jepsen log, not a kv log"],
  ] as const)(
    "says --format %s does not match a file whose first line says otherwise",
    (format, first, words) => {
      let error: unknown;
      try {
        parseHistory("h.txt", `\n${first}\n`, format);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HistoryError);
      expect((error as HistoryError).message).toBe(
        `h.txt:2: --format ${format} does not match the file: this line looks like ${words} (leave --format out to read it as it is)`,
      );
    },
  );

  it("reads a forced format when the first line does not say", () => {
    const log = `starting up\n${jepsen(["0\t:invoke\t:read\tnil", "0\t:ok\t:read\t3"])}`;
    expect(() => parseHistory("j.log", log)).toThrow(/unrecognised format/);
    expect(parseHistory("j.log", log, "jepsen").operations).toHaveLength(1);
  });

  it("rejects a history with a header and no operations", () => {
    expect(errorOf('{"model": "register"}').message).toContain("no operations");
  });
});
