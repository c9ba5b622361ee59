import { describe, expect, test } from "vitest";
import { findChromium, INSTALL_COMMAND } from "./chromium.ts";

describe("findChromium", () => {
  const paths = ["/usr/bin/chromium", "/usr/bin/google-chrome"];

  test("CHROMIUM_PATH first, then the usual paths in order", () => {
    const all = () => true;
    expect(findChromium({ CHROMIUM_PATH: "/opt/c/chrome" }, paths, all)).toBe("/opt/c/chrome");
    expect(findChromium({}, paths, all)).toBe("/usr/bin/chromium");
    const onlyChrome = (p: string) => p === "/usr/bin/google-chrome";
    expect(findChromium({ CHROMIUM_PATH: "/nowhere" }, paths, onlyChrome)).toBe(
      "/usr/bin/google-chrome",
    );
  });

  test("none found: an error naming every place looked at and the command that installs it", () => {
    const none = () => false;
    expect(() => findChromium({ CHROMIUM_PATH: "/nowhere" }, paths, none)).toThrow(
      `no Chromium found: looked at CHROMIUM_PATH=/nowhere, /usr/bin/chromium, /usr/bin/google-chrome. Install it with: ${INSTALL_COMMAND}`,
    );
    expect(() => findChromium({}, paths, none)).toThrow(/CHROMIUM_PATH \(not set\)/);
    expect(INSTALL_COMMAND).toBe("apt-get install chromium");
  });
});
