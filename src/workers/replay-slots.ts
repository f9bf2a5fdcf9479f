import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

interface ReplayPermit extends SlotPermit {
  /** Its task has arrived (the SDK marked the slot used). */
  used: boolean;
  /** A replay that still holds the process's thread to itself. */
  replaying: boolean;
}

export interface ReplaySlots extends CustomSlotSupplier<ActivitySlotInfo> {
  /**
   * A replay no longer needs the thread to itself: it ended (its results are being stored) or it
   * reported, a long run that gives the thread up at every report.
   */
  threadShared(): void;
}

/**
 * The activity slots of a backtest worker: at most `maxRuns` tasks at once, and the next task is
 * polled for only while every running replay has shared the thread (`threadShared`). A replay holds
 * the process's one thread for a second at a time; a task polled for during one waits for it on
 * this process even when another process is idle, so a sweep's last two children could end up
 * replaying one after the other here while the other process had nothing left. Polled for while
 * the replay before it stores its results, the next task loads while that one writes: the waits
 * still overlap, one replay at a time.
 */
export function replaySlots(opts: {
  maxRuns: number;
  replayActivity: string;
  /** Told how many more tasks the process could take (`maxRuns` less those running) when that changes. */
  onAvailable?: (available: number) => void;
}): ReplaySlots {
  const live = new Set<ReplayPermit>();
  const waiting: Array<(permit: ReplayPermit) => void> = [];
  /** Tells `onAvailable` what is left once a task has arrived or a running one has ended. */
  const reportAvailable = () => {
    let running = 0;
    for (const p of live) if (p.used) running += 1;
    opts.onAvailable?.(opts.maxRuns - running);
  };
  reportAvailable();
  // At most one poll at a time: an unused permit is a poll that may yet bring a replay.
  const free = () => live.size < opts.maxRuns && [...live].every((p) => p.used && !p.replaying);
  const grant = (): ReplayPermit => {
    const permit = { used: false, replaying: false };
    live.add(permit);
    return permit;
  };
  const grantWaiting = () => {
    while (waiting.length > 0 && free()) waiting.shift()!(grant());
  };
  return {
    type: 'custom',
    reserveSlot(_ctx, abortSignal) {
      if (abortSignal.aborted) return Promise.reject(abortSignal.reason);
      if (free()) return Promise.resolve(grant());
      return new Promise((resolve, reject) => {
        const waiter = (permit: ReplayPermit) => {
          abortSignal.removeEventListener('abort', abort);
          resolve(permit);
        };
        const abort = () => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(abortSignal.reason);
        };
        abortSignal.addEventListener('abort', abort, { once: true });
        waiting.push(waiter);
      });
    },
    tryReserveSlot: () => (free() ? grant() : null),
    markSlotUsed({ slotInfo, permit }) {
      const used = permit as ReplayPermit;
      used.used = true;
      used.replaying = slotInfo.activityType === opts.replayActivity;
      reportAvailable();
      grantWaiting();
    },
    releaseSlot({ permit, slotInfo }) {
      live.delete(permit as ReplayPermit);
      // A permit released with its slot's task ran one; one released without it was an empty poll.
      if (slotInfo) reportAvailable();
      grantWaiting();
    },
    threadShared() {
      // The gate lets one replay hold the thread at a time, so it is the one that shares it (a run
      // that shares before its slot reads used frees it at its release, which follows at once).
      const replay = [...live].find((p) => p.replaying);
      if (replay) replay.replaying = false;
      grantWaiting();
    },
  };
}
