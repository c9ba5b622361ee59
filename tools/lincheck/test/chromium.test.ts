import { describe, expect, it } from "vitest";
import { findChromium, INSTALL, USUAL_PATHS } from "./chromium.ts";

describe("finding Chromium for the browser tests", () => {
  const only =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it("takes CHROMIUM_PATH first", () => {
    expect(
      findChromium({ CHROMIUM_PATH: "/opt/c/chrome" }, only("/opt/c/chrome", "/usr/bin/chromium")),
    ).toBe("/opt/c/chrome");
  });

  it("fails on a CHROMIUM_PATH that does not exist, rather than quietly using another", () => {
    expect(() => findChromium({ CHROMIUM_PATH: "/nope" }, only("/usr/bin/chromium"))).toThrow(
      /CHROMIUM_PATH is \/nope/,
    );
  });

  it("else takes the first of the usual paths that exists", () => {
    expect(findChromium({}, only("/usr/bin/google-chrome", "/snap/bin/chromium"))).toBe(
      "/usr/bin/google-chrome",
    );
    expect(findChromium({}, only(USUAL_PATHS[0]!))).toBe("/usr/bin/chromium");
  });

  it("with none, fails with the one command that installs it", () => {
    expect(() => findChromium({}, only())).toThrow(INSTALL);
    expect(INSTALL).toBe("apt-get install chromium");
  });
});
