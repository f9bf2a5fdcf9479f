/**
 * The ids of sweeps and walk-forwards and of the workflows that run them, as every reader forms and
 * reads them: the service that starts them, a walk-forward's in-sample sweeps, the API's lookups and
 * the dashboard's Recent list. No imports: the workflow bundle and the dashboard's take it as it is.
 */

// How a sweep's and a walk-forward's ids begin; their children's ids begin with theirs. A single
// backtest's id is `bt-` and hex digits, which never spell `sw` or `wf`.
const SWEEP_ID_PREFIX = 'bt-sw';
const WALK_FORWARD_ID_PREFIX = 'bt-wf';

/** A new sweep's or walk-forward's id, from a few random hex digits (`suffix`). */
export const newSweepId = (suffix: string) => `${SWEEP_ID_PREFIX}${suffix}`;
export const newWalkForwardId = (suffix: string) => `${WALK_FORWARD_ID_PREFIX}${suffix}`;

/** The prefixes of the backtests that sweeps and walk-forwards store (their children's ids start with them). */
export const ANALYSIS_ID_PREFIXES: readonly string[] = [SWEEP_ID_PREFIX, WALK_FORWARD_ID_PREFIX];

export const sweepWorkflowId = (id: string) => `sweep-${id}`;
export const walkForwardWorkflowId = (id: string) => `walkforward-${id}`;

/** The id of a walk-forward's in-sample sweep for one fold (its workflow id: `sweepWorkflowId` of it). */
export const foldSweepId = (walkForwardId: string, fold: number) => `${walkForwardId}-is${fold}`;

/**
 * The id of the sweep or walk-forward a workflow runs, when it is one started on its own (a
 * walk-forward's in-sample sweeps are not); undefined for any other workflow.
 */
export function startedAnalysisId(workflowId: string, kind: 'sweep' | 'walkForward'): string | undefined {
  const [workflowIdOf, prefix] = kind === 'sweep' ? [sweepWorkflowId, SWEEP_ID_PREFIX] : [walkForwardWorkflowId, WALK_FORWARD_ID_PREFIX];
  const id = workflowId.slice(workflowIdOf('').length);
  return workflowId === workflowIdOf(id) && id.startsWith(prefix) && /^[0-9a-f]+$/.test(id.slice(prefix.length)) ? id : undefined;
}
