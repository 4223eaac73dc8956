// Prints one plain closing line, "N passed, N failed, N skipped", that any CI log reader understands.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const m of modules) for (const t of m.children.allTests()) count[t.result().state]++;
    // A module that failed to load has no tests: count it as a failure.
    const broken = modules.filter((m) => m.state() === "failed" && [...m.children.allTests()].length === 0).length;
    const failed = count.failed + broken + unhandledErrors.length;
    console.log(`\n${count.passed} passed, ${failed} failed, ${count.skipped + count.pending} skipped`);
  }
}
