// Outside tools the tests use (chromium, promtool): skipped when missing, except under BATCHWATCH_CI=1 (.ci/run installs them).

/** BATCHWATCH_CI=1: every tool must be present; a test that needs a missing one fails instead of being skipped. */
export const TOOLS_REQUIRED = process.env.BATCHWATCH_CI === '1';

/** The `skip` option of a test that needs a tool: false (run it) when the tool is present or required; else why it is skipped. */
export function skipWithout(present: boolean, missing: string, required = TOOLS_REQUIRED): string | false {
  return present || required ? false : missing;
}

/** The error a test gets when it needs a missing tool under BATCHWATCH_CI=1. */
export function missingTool(missing: string): Error {
  return new Error(`${missing}${TOOLS_REQUIRED ? ' (BATCHWATCH_CI=1: every tool the tests use must be installed)' : ''}`);
}
