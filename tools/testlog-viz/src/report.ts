// Reads vitest's JSON report (dotest.sh asks vitest for one), to list the tests that ran but
// started no cluster: they wrote no trace, and the index should say so rather than leave them out.

import type { TestWithoutTrace } from "./html.ts";
import { isObject } from "./kinds.ts";
import { filterName, type Trace } from "./trace.ts";

export interface ReportedTest {
  /** describe names, then the test's name */
  path: string[];
  /** the test file, as the report gives it (absolute) */
  file: string;
  result: "pass" | "fail";
}

/** The tests that ran (passed or failed; skipped ones did not run). Throws on a file that is not a report. */
export function readReport(text: string): ReportedTest[] {
  const report: unknown = JSON.parse(text);
  if (!isObject(report) || !Array.isArray(report.testResults)) {
    throw new Error("it has no testResults: not a vitest JSON report");
  }
  return report.testResults.flatMap((file: unknown) => {
    if (!isObject(file) || typeof file.name !== "string" || !Array.isArray(file.assertionResults)) {
      return [];
    }
    const name = file.name;
    return file.assertionResults.flatMap((test: unknown): ReportedTest[] => {
      if (!isObject(test) || typeof test.title !== "string") return [];
      if (test.status !== "passed" && test.status !== "failed") return [];
      const ancestors = Array.isArray(test.ancestorTitles) ? test.ancestorTitles.map(String) : [];
      return [
        {
          path: [...ancestors, test.title],
          file: name,
          result: test.status === "passed" ? "pass" : "fail",
        },
      ];
    });
  });
}

/** The reported tests that no trace belongs to (a trace names its test and its file). */
export function withoutTrace(tests: ReportedTest[], traces: Trace[]): TestWithoutTrace[] {
  const traced = traces.flatMap((t) => (t.start === null ? [] : [t.start]));
  const hasTrace = (test: ReportedTest) =>
    traced.some((s) => s.test === test.path.join(" > ") && test.file.endsWith(`/${s.file}`));
  return tests
    .filter((test) => !hasTrace(test))
    .map((test) => ({ name: filterName(test.path), file: test.file, result: test.result }));
}
