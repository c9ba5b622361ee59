import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "playground",
    include: ["test/**/*.test.ts"],
    // Only a backstop, at 10 minutes as for the parts: the Node-run sessions are simulations that
    // end by virtual time, and the browser tests wait on the page with bounds of their own. At
    // load average 24 (\`pnpm test:loaded\` beside other work) running every part 6 scenario took
    // over the 2 minutes this limit used to be.
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
