import { DefaultLogger, Runtime } from '@temporalio/worker';

// Tests fail activities on purpose; the SDK's warnings about it would bury the test report. What
// activities log themselves (an unprotected position, a skipped strategy) is asserted by the tests
// through what they store, so only the SDK's own errors are printed.
Runtime.install({
  // The core's own log (a cancelled activity completing late, a poll on shutdown) at its errors only.
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  logger: new DefaultLogger('ERROR', (entry) => {
    if (entry.meta?.sdkComponent === 'activity') return;
    console.error(`[temporal ${entry.level}] ${entry.message}`, entry.meta ?? '');
  }),
});
