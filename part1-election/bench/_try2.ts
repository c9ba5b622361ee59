import { runTrial, TIMEOUT_RANGES } from "./figure16.ts";
for (const i of [0, 6]) {
const r = TIMEOUT_RANGES[i]!;
for (let s = 0; s < 100; s++) { const o = await runTrial(r, s, 10000); if (o.setupFailed || o.violations.length) console.log(i, o); }
}
