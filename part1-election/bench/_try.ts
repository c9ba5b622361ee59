import { rangeLabel, runTrial, TIMEOUT_RANGES } from "./figure16.ts";
import { summarize } from "./stats.ts";

for (const r of TIMEOUT_RANGES) {
  const t0 = performance.now();
  const out = [];
  for (let s = 0; s < 100; s++) out.push(await runTrial(r, s, 10000));
  const sum = summarize(
    out.map((o) => o.downtime),
    10000,
  );
  console.log(
    rangeLabel(r),
    ((performance.now() - t0) / 1000).toFixed(2),
    "s",
    "setupFail",
    out.filter((o) => o.setupFailed).length,
    "viol",
    out.flatMap((o) => o.violations).length,
    sum.median,
    sum.mean.toFixed(1),
    sum.p99,
    sum.max,
    sum.capped,
  );
}
