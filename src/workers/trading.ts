import type { InjectedSinks, NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { createTradingActivities, type TradingDeps } from '../activities/trading';
import { sagaOutcomes } from '../metrics';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { MetricSinks } from '../workflows/types';
import { workflowsPath } from './pipeline';
import { createWorker } from './interceptors';

/** What the sagas report through the worker: their outcomes, counted once (not on replay). */
export const tradingSinks: InjectedSinks<MetricSinks> = {
  metrics: { sagaOutcome: { fn: (_info, status) => sagaOutcomes.inc({ status }), callDuringReplay: false } },
};

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
