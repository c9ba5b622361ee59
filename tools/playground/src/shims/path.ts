// node:path for the bundles (POSIX only): what the parts' test harness asks of it (resolve,
// relative, basename, dirname, join), over the virtual folder /repo where the build places the
// repository (the harness's import.meta.dirname becomes /repo/<part>/test).

export const sep = "/";

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

export function resolve(...paths: string[]): string {
  let joined = "";
  for (const p of paths) joined = p.startsWith("/") ? p : `${joined}/${p}`;
  return `/${normalizeParts(joined.split("/")).join("/")}`;
}

export function join(...paths: string[]): string {
  const joined = paths.filter((p) => p !== "").join("/");
  const normal = normalizeParts(joined.split("/")).join("/");
  return joined.startsWith("/") ? `/${normal}` : normal || ".";
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter(Boolean);
  const b = resolve(to).split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}

export function dirname(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, "") : p;
  const at = trimmed.lastIndexOf("/");
  if (at < 0) return ".";
  return at === 0 ? "/" : trimmed.slice(0, at);
}

export function basename(p: string, suffix?: string): string {
  const base = p.replace(/\/+$/, "").split("/").at(-1) ?? "";
  return suffix !== undefined && base.endsWith(suffix) && base !== suffix
    ? base.slice(0, -suffix.length)
    : base;
}

export function extname(p: string): string {
  const base = basename(p);
  const at = base.lastIndexOf(".");
  return at <= 0 ? "" : base.slice(at);
}

export default { sep, resolve, join, relative, dirname, basename, extname };
