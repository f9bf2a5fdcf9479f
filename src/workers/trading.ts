import type { InjectedSinks, NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { createTradingActivities, type TradingDeps } from '../activities/trading';
import { connectDatabase } from '../db/client';
import { sagaOutcomes } from '../metrics';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { MetricSinks } from '../workflows/types';
import { workflowsPath } from './pipeline';
import { createWorker } from './interceptors';

/** What the sagas report through the worker: their outcomes, counted once (not on replay). */
export const tradingSinks: InjectedSinks<MetricSinks> = {
  metrics: { sagaOutcome: { fn: (_info, status) => sagaOutcomes.inc({ status }), callDuringReplay: false } },
};

/**
 * The trading activities' own pool: statements prepared and planned once (`planOnce`), ten
 * connections, kept open while idle (`keepIdle`: signals minutes apart would otherwise find none
 * open). The sagas that change the book queue for one portfolio's lock whatever the pool's size
 * (in this process first, `portfolioTransaction`), so more connections serve only the steps that
 * take no lock (the bench measured no difference between 4, 10 and 20).
 */
export const connectTradingDatabase = (url: string) => connectDatabase(url, 10, { planOnce: true, keepIdle: true });

/** The per-signal sagas and their risk and execution activities, on `mts-trading`. */
export function createTradingWorker(opts: { connection: NativeConnection; namespace: string; deps: TradingDeps; workflowBundle?: WorkflowBundle }) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.trading,
    activities: createTradingActivities(opts.deps),
    sinks: tradingSinks,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
