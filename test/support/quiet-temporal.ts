import { DefaultLogger, Runtime } from '@temporalio/worker';

// Tests fail activities on purpose; the SDK's warnings about it would bury the test report.
Runtime.install({ logger: new DefaultLogger('ERROR') });
