import { existsSync } from "node:fs";

/** Where Chromium or Chrome usually is: Debian and Ubuntu packages, Google's, snap, macOS. */
export const USUAL_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

export const INSTALL = "apt-get install chromium";

/**
 * The browser the tests drive: $CHROMIUM_PATH if set (and then nothing else, so a wrong setting
 * is not hidden), else the first of the usual paths that exists. Never a downloaded one. None
 * found is an error saying how to get one: the browser tests fail, they are never skipped.
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const chosen = env.CHROMIUM_PATH;
  if (chosen) {
    if (exists(chosen)) return chosen;
    throw new Error(
      `CHROMIUM_PATH is ${chosen}, which does not exist. Install Chromium: ${INSTALL}`,
    );
  }
  const found = USUAL_PATHS.find(exists);
  if (found !== undefined) return found;
  throw new Error(
    `no Chromium found (looked at ${USUAL_PATHS.join(", ")}). Install it: ${INSTALL} ` +
      "(or set CHROMIUM_PATH to a Chromium or Chrome binary)",
  );
}
