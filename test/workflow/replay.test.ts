import { readFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/temporal';

/**
 * Histories recorded by earlier versions of the workflows. Today's code replays each to the same
 * commands (its `patched` branches), so a worker of this version can answer queries on those runs and
 * carry on the ones still open. Stored in the protobuf's own object form (64-bit numbers as strings):
 * the SDK's reader of the proto3 JSON that `temporal workflow show` prints fails here with "type must
 * be a Type", as it meets the several copies of protobufjs this install holds.
 */
const HISTORIES = [
  // Cancelled while it ran, before cancelled backtests waited for their replay and discarded what it stored.
  'backtest-cancelled-before-discarding.json',
  // Failed for good half-way (its replay's error not retryable), before failed backtests discarded what they stored.
  'backtest-failed-before-discarding.json',
  // Cancelled with two children running, before a cancelled sweep ended cancelled: it completed.
  'sweep-cancelled-before-ending-cancelled.json',
  // Cancelled with its folds' children running, before a walk-forward waited for every fold's sweep:
  // its sweeps completed (every child cancelled), and so did it, its folds without a choice.
  'walk-forward-cancelled-before-settling.json',
];

describe('workflow histories of earlier versions', () => {
  it.each(HISTORIES)('replays %s', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(new URL(`./histories/${file}`, import.meta.url), 'utf8')));
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history)).resolves.toBeUndefined();
  });
});
