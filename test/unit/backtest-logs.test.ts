import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BacktestTrade, TradeLog } from '../../src/domain/backtest/logs';

type Step = { kind: 'open'; asset: string } | { kind: 'close'; pick: number } | { kind: 'drain' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), asset: fc.constantFrom('bitcoin', 'ethereum', 'solana') }),
  fc.record({ kind: fc.constant('close' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('drain' as const) }),
);

describe('the trade log', () => {
  it('drains its closed trades in the order they were opened and keeps the open ones, whatever came before (property)', () => {
    // Long runs of opens make the columns grow past their first 64 rows between drains.
    fc.assert(fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
      const log = new TradeLog();
      // The model: every trade as a row, and where each open one is in the log now.
      const trades: BacktestTrade[] = [];
      const open: Array<{ trade: BacktestTrade; at: number }> = [];
      const drained: BacktestTrade[] = [];
      const expectedDrained: BacktestTrade[] = [];
      steps.forEach((s, n) => {
        if (s.kind === 'open') {
          const trade: BacktestTrade = {
            asset: s.asset, direction: n % 2 ? 'LONG' : 'SHORT', entryTime: n, entryPrice: 100 + n, exitTime: null, exitPrice: null,
            quantity: 1 + n / 8, fees: n / 100, grossPnl: 0, pnl: 0, returnPct: 0,
          };
          trades.push(trade);
          open.push({ trade, at: log.open(trade) });
        } else if (s.kind === 'close' && open.length) {
          const [{ trade, at }] = open.splice(s.pick % open.length, 1);
          log.addFill(at, 0.5, 3);
          const pnl = log.close(at, 1000 + n, 110);
          Object.assign(trade, { exitTime: 1000 + n, exitPrice: 110, fees: trade.fees + 0.5, grossPnl: 3, pnl });
          trade.returnPct = pnl / (trade.entryPrice * trade.quantity);
          expect(pnl).toBe(3 - trade.fees);
        } else if (s.kind === 'drain') {
          // `trades` is in the order they were opened.
          expectedDrained.push(...trades.filter((t) => t.exitTime !== null && !expectedDrained.includes(t)));
          const { closed, moved } = log.drainClosed();
          drained.push(...closed.rows());
          for (const o of open) o.at = moved[o.at];
        }
      });
      // Closed trades leave in the log's order (the order they were opened in), each once.
      expect(drained).toEqual(expectedDrained);
      const left = trades.filter((t) => !expectedDrained.includes(t));
      expect(log.rows()).toEqual(left);
      // Each open trade is where the moves said it went.
      for (const o of open) expect(log.row(o.at)).toEqual(o.trade);
    }), { numRuns: 300 });
  });
});
