import {
  ApplicationFailure, defineQuery, defineSignal, isCancellation, ParentClosePolicy, proxyActivities, setHandler, startChild, workflowInfo,
} from '@temporalio/workflow';
import type { CollectionActivities } from '../activities/collection';
import { innermostMessage } from '../temporal/failures';
import { MTS_ASSETS } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { generateSignalsWorkflow } from './signals';
import { protectPositionsWorkflow } from './trading';
import type {
  AssetBackfillProgress, BackfillInput, BackfillProgress, CollectInput, CollectionTarget, CollectSummary,
} from './types';

/** Provider faults back off exponentially; 429s wait what Retry-After says (set by the activity). */
const providerRetry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 } as const;

const cryptoCollector = proxyActivities<CollectionActivities>({
  taskQueue: TASK_QUEUES.marketData, startToCloseTimeout: '2m', retry: providerRetry,
});
const macroCollector = proxyActivities<CollectionActivities>({
  taskQueue: TASK_QUEUES.macroData, startToCloseTimeout: '2m', retry: providerRetry,
});

const collectorFor = (t: CollectionTarget) => (t.kind === 'macro' ? macroCollector : cryptoCollector);

/**
 * Collects every asset of a tier in parallel. One asset's failure does not stop the others; once all
 * have finished, the run fails naming each failed asset so it shows as failed and can be retried.
 */
export async function collectTierWorkflow(input: CollectInput): Promise<CollectSummary> {
  const settled = await Promise.allSettled(input.targets.map((t) => collectorFor(t).collectAsset(t)));
  const assets = settled.map((s, i) =>
    s.status === 'fulfilled' ? s.value : { asset: input.targets[i].asset, error: innermostMessage(s.reason) });
  const summary: CollectSummary = {
    tier: input.tier,
    assets,
    rowsWritten: assets.reduce((n, a) => n + ('rowsWritten' in a ? a.rowsWritten : 0), 0),
  };
  const failed = assets.filter((a): a is { asset: string; error: string } => 'error' in a);
  const info = workflowInfo();
  // Fresh bars meet the stops and targets of open positions first, for every coin whose bars
  // arrived, even when another coin failed: one bad provider answer never leaves a stop unchecked.
  const collected = input.targets.filter((t, i) => t.kind === 'crypto' && settled[i].status === 'fulfilled').map((t) => t.asset);
  if ((input.generateSignals ?? true) && collected.length > 0) {
    await startChild(protectPositionsWorkflow, {
      workflowId: `protect-${info.workflowId}`,
      taskQueue: TASK_QUEUES.trading,
      args: [{ assets: collected }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${failed.length} of ${assets.length} assets failed: ${failed.map((f) => `${f.asset}: ${f.error}`).join('; ')}`,
      'CollectionFailed',
      summary,
    );
  }
  if (input.generateSignals ?? true) {
    // Then fresh decisions for the collected coins (all of them after a macro run) as of this run.
    const coins = input.targets.filter((t) => t.kind === 'crypto').map((t) => t.asset);
    const child = await startChild(generateSignalsWorkflow, {
      workflowId: `signals-${info.workflowId}`,
      taskQueue: TASK_QUEUES.pipeline,
      args: [{ asOf: info.startTime.getTime(), assets: coins.length > 0 ? coins : undefined }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: coins.length > 0 ? [{ key: MTS_ASSETS, value: coins }] : [],
    });
    summary.signalsWorkflowId = child.workflowId;
  }
  return summary;
}

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');
export const backfillProgressSignal = defineSignal<[AssetBackfillProgress]>('backfillProgress');

/** Finds and fills the gaps of each asset over [from, to); progress is the `progress` query. */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillProgress> {
  const byAsset = new Map<string, AssetBackfillProgress>();
  const progress = (): BackfillProgress => {
    const assets = [...byAsset.values()];
    return {
      chunksDone: assets.reduce((n, a) => n + a.chunksDone, 0),
      chunksTotal: assets.reduce((n, a) => n + a.chunksTotal, 0),
      rowsWritten: assets.reduce((n, a) => n + a.rowsWritten, 0),
      assets,
    };
  };
  setHandler(backfillProgressSignal, (p) => {
    byAsset.set(p.asset, p);
  });
  setHandler(backfillProgressQuery, progress);

  const options = (queue: string) => ({
    taskQueue: queue,
    startToCloseTimeout: '12h',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    retry: providerRetry,
  });
  const crypto = proxyActivities<CollectionActivities>(options(TASK_QUEUES.marketData));
  const macro = proxyActivities<CollectionActivities>(options(TASK_QUEUES.macroData));

  const settled = await Promise.allSettled(input.targets.map(async (t) => {
    const done = await (t.kind === 'macro' ? macro : crypto).backfillAsset({ ...t, from: input.from, to: input.to });
    byAsset.set(t.asset, done);
  }));
  // Cancelled by its caller: the run ends CANCELLED, not as a failed backfill.
  const cancelled = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && isCancellation(s.reason));
  if (cancelled) throw cancelled.reason;
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${input.targets[i].asset}: ${innermostMessage(s.reason)}`] : []));
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(`backfill failed for ${failed.join('; ')}`, 'BackfillFailed', progress());
  }
  return progress();
}
