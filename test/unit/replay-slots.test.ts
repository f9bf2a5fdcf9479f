import type { SlotPermit, SlotReserveContext } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { replaySlots } from '../../src/workers/replay-slots';

const reserveContext: SlotReserveContext = {
  slotType: 'activity', taskQueue: 'mts-backtest', workerIdentity: 'test', workerBuildId: '', isSticky: false,
};

/** A backtest worker's slots as the SDK drives them: reservations before polls, tasks that arrive, releases. */
function slotsUnder(maxRuns: number) {
  const available: number[] = [];
  const slots = replaySlots({ maxRuns, replayActivity: 'runBacktest', onAvailable: (n) => available.push(n) });
  const granted: SlotPermit[] = [];
  /** Asks for a slot; its permit lands in `granted` when it is given. */
  const poll = (signal = new AbortController().signal) => slots.reserveSlot(reserveContext, signal).then((p) => {
    granted.push(p);
    return p;
  });
  const arrive = (permit: SlotPermit, activityType: string) =>
    slots.markSlotUsed({ slotInfo: { type: 'activity', activityType }, permit });
  const release = (permit: SlotPermit, activityType?: string) =>
    slots.releaseSlot({ permit, slotInfo: activityType ? { type: 'activity', activityType } : undefined });
  // Lets the promises of the grants just made settle.
  const settled = () => new Promise((r) => setImmediate(r));
  return { slots, granted, available, poll, arrive, release, settled };
}

describe('replaySlots', () => {
  it('polls for the next task only once the running replay shares the thread', async () => {
    const { slots, granted, poll, arrive, settled } = slotsUnder(2);
    const first = await poll();
    void poll();
    await settled();
    expect(granted).toHaveLength(1); // one poll at a time: the first may yet bring a replay
    arrive(first, 'runBacktest');
    await settled();
    expect(granted).toHaveLength(1); // it did: the replay holds the thread
    expect(slots.tryReserveSlot(reserveContext)).toBeNull(); // nor is an eager task taken
    slots.threadShared();
    await settled();
    expect(granted).toHaveLength(2);
  });

  it('takes the next task at once after a task that does not replay', async () => {
    const { granted, poll, arrive, settled } = slotsUnder(2);
    const first = await poll();
    void poll();
    arrive(first, 'discardBacktest');
    await settled();
    expect(granted).toHaveLength(2);
  });

  it('runs at most maxRuns tasks, and frees a slot when a task ends or a poll comes back empty', async () => {
    const { slots, granted, available, poll, arrive, release, settled } = slotsUnder(2);
    const first = await poll();
    arrive(first, 'runBacktest');
    slots.threadShared();
    const second = await poll();
    arrive(second, 'runBacktest');
    slots.threadShared();
    void poll();
    await settled();
    expect(granted).toHaveLength(2);
    expect(slots.tryReserveSlot(reserveContext)).toBeNull();
    release(first, 'runBacktest');
    await settled();
    expect(granted).toHaveLength(3);
    // The third poll timed out without a task: its slot is free again.
    release(granted[2]);
    expect(slots.tryReserveSlot(reserveContext)).not.toBeNull();
    // Polls are not runs: what the process could still take changed as tasks arrived and ended.
    expect(available).toEqual([2, 1, 0, 1]);
  });

  it('keeps the next task back while a replay holds the thread, whatever the shared runs do', async () => {
    const { slots, granted, poll, arrive, release, settled } = slotsUnder(3);
    const long = await poll();
    arrive(long, 'runBacktest');
    slots.threadShared(); // a long run that reported
    const next = await poll();
    arrive(next, 'runBacktest');
    void poll();
    await settled();
    expect(granted).toHaveLength(2);
    release(long, 'runBacktest'); // the long run ends: the other still replays
    await settled();
    expect(granted).toHaveLength(2);
    slots.threadShared();
    await settled();
    expect(granted).toHaveLength(3);
  });

  it('drops a reservation the SDK aborts, with the abort\'s reason, and grants the next one', async () => {
    const { slots, granted, poll, arrive, settled } = slotsUnder(2);
    const first = await poll();
    arrive(first, 'runBacktest');
    const aborted = new AbortController();
    const abandoned = poll(aborted.signal);
    void poll();
    aborted.abort(new Error('poller shut down'));
    await expect(abandoned).rejects.toThrow('poller shut down');
    slots.threadShared();
    await settled();
    expect(granted).toHaveLength(2);
    await expect(poll(aborted.signal)).rejects.toThrow('poller shut down');
  });
});
