import { describe, expect, it } from 'vitest';
import {
  ANALYSIS_ID_PREFIXES, foldSweepId, newSweepId, newWalkForwardId, startedAnalysisId, sweepWorkflowId, walkForwardWorkflowId,
} from '../../src/temporal/analysis-ids';

describe('sweep and walk-forward ids', () => {
  it('are formed as the stored results and running workflows already carry them', () => {
    expect(newSweepId('a1b2c3')).toBe('bt-swa1b2c3');
    expect(newWalkForwardId('0f9e8d')).toBe('bt-wf0f9e8d');
    expect(sweepWorkflowId('bt-swa1b2c3')).toBe('sweep-bt-swa1b2c3');
    expect(walkForwardWorkflowId('bt-wf0f9e8d')).toBe('walkforward-bt-wf0f9e8d');
    expect(sweepWorkflowId(foldSweepId('bt-wf0f9e8d', 2))).toBe('sweep-bt-wf0f9e8d-is2');
    // A single backtest's id is `bt-` and hex digits: never under a sweep's or walk-forward's prefix.
    expect(ANALYSIS_ID_PREFIXES.some((p) => 'bt-5e7a9c'.startsWith(p))).toBe(false);
  });

  it('are read back from a workflow id only for a sweep or walk-forward started on its own', () => {
    expect(startedAnalysisId('sweep-bt-swa1b2c3', 'sweep')).toBe('bt-swa1b2c3');
    expect(startedAnalysisId('walkforward-bt-wf0f9e8d', 'walkForward')).toBe('bt-wf0f9e8d');
    // A walk-forward's in-sample sweep, the other kind, a backtest, an id that is not hex after its prefix.
    for (const [workflowId, kind] of [
      ['sweep-bt-wf0f9e8d-is2', 'sweep'], ['walkforward-bt-wf0f9e8d', 'sweep'], ['sweep-bt-swa1b2c3', 'walkForward'],
      ['backtest-bt-5e7a9c', 'sweep'], ['sweep-bt-swxyz', 'sweep'], ['sweep-bt-sw', 'sweep'], ['xsweep-bt-swa1b2c3', 'sweep'],
    ] as const) expect(startedAnalysisId(workflowId, kind), workflowId).toBeUndefined();
  });
});
