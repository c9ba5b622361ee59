/**
 * Just enough of EDN (Clojure's data notation, which Jepsen logs use) for the corpus formats:
 * nil, booleans, integers, strings, keywords, vectors and maps. Commas are whitespace in EDN.
 */
export type Edn = null | boolean | number | string | { keyword: string } | Edn[] | Map<string, Edn>;

const TOKEN = /\s*(?:,\s*)*(?:("(?:[^"\\]|\\.)*")|([[\]{}])|([^\s,[\]{}"]+))/y;

class Reader {
  private pos = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The next token, or undefined at the end of the text. */
  private token(): string | undefined {
    TOKEN.lastIndex = this.pos;
    const m = TOKEN.exec(this.text);
    if (m === null) {
      if (this.text.slice(this.pos).replace(/[\s,]/g, "") === "") return undefined;
      throw new Error(`unreadable text at column ${this.pos + 1}`);
    }
    this.pos = TOKEN.lastIndex;
    return m[1] ?? m[2] ?? m[3];
  }

  value(): Edn {
    const t = this.token();
    if (t === undefined) throw new Error("unexpected end of line");
    return this.fromToken(t);
  }

  private fromToken(t: string): Edn {
    if (t === "[") return this.sequence("]");
    if (t === "{") return this.map();
    if (t === "]" || t === "}") throw new Error(`unexpected "${t}"`);
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (t === "nil") return null;
    if (t === "true" || t === "false") return t === "true";
    if (/^-?\d+$/.test(t)) return Number(t);
    if (/^:[^:]/.test(t)) return { keyword: t.slice(1) };
    throw new Error(`cannot read ${JSON.stringify(t)}`);
  }

  private sequence(close: string): Edn[] {
    const items: Edn[] = [];
    for (let t = this.token(); t !== close; t = this.token()) {
      if (t === undefined) throw new Error(`missing "${close}"`);
      items.push(this.fromToken(t));
    }
    return items;
  }

  private map(): Map<string, Edn> {
    const items = this.sequence("}");
    if (items.length % 2 !== 0) throw new Error("a map needs an even number of forms");
    const map = new Map<string, Edn>();
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (!isKeyword(k)) throw new Error("map keys must be keywords");
      map.set(k.keyword, items[i + 1]!);
    }
    return map;
  }

  end(): void {
    if (this.token() !== undefined) throw new Error("unexpected text after the value");
  }
}

export function isKeyword(v: Edn | undefined): v is { keyword: string } {
  return typeof v === "object" && v !== null && "keyword" in v;
}

/** Read exactly one EDN value from the text; throws an Error describing what is wrong. */
export function readEdn(text: string): Edn {
  const reader = new Reader(text);
  const value = reader.value();
  reader.end();
  return value;
}

/** readEdn, with errors reported through `fail` (which names the file and line). */
export function readEdnOr(text: string, fail: (message: string) => never): Edn {
  try {
    return readEdn(text);
  } catch (e) {
    return fail((e as Error).message);
  }
}
