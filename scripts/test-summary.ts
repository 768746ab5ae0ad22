import { readFileSync } from 'node:fs';

/**
 * Prints one plain closing line, "N passed, N failed, N skipped", from vitest's JSON report, so CI logs end with a
 * count that any reader (human or tool) understands. Exits non-zero when tests failed or none ran.
 */
interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
}

const report = JSON.parse(readFileSync(process.argv[2] ?? '.vitest-report.json', 'utf8')) as Report;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.numFailedTests > 0 || report.numTotalTests === 0 ? 1 : 0);
