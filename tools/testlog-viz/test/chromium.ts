// Finds the Chromium the browser tests and the benchmark drive. The repository never downloads a
// browser: it uses the system's (Debian's `chromium` package), so a missing one is an error that
// says how to install it, never a reason to skip.
import { accessSync, constants } from "node:fs";

/** Where distributions put Chromium or Chrome, in the order tried after CHROMIUM_PATH. */
export const USUAL_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
];

export const INSTALL_COMMAND = "apt-get install chromium";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH if it is set and runs, else the first usual path that does; throws otherwise. */
export function findChromium(
  env: Record<string, string | undefined> = process.env,
  paths: readonly string[] = USUAL_PATHS,
  exists: (path: string) => boolean = isExecutable,
): string {
  const chosen = env.CHROMIUM_PATH;
  const tried = chosen ? [chosen, ...paths] : [...paths];
  const found = tried.find(exists);
  if (found !== undefined) return found;
  const setting = chosen ? `CHROMIUM_PATH=${chosen}, ` : "CHROMIUM_PATH (not set), ";
  throw new Error(
    `no Chromium found: looked at ${setting}${paths.join(", ")}. Install it with: ${INSTALL_COMMAND}`,
  );
}
