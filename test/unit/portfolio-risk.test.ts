import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRiskConfig } from '../../src/config/risk';
import { validateTrade } from '../../src/domain/risk';
import { newTradingState, riskView } from '../../src/domain/trading/core';

const config = { ...loadRiskConfig(), sectors: { a: 'defi', b: 'defi', c: 'layer1', d: 'layer1' } };

describe('the book the risk limits see', () => {
  it('counts what each position would lose at its stop, from its mark', () => {
    const state = newTradingState(10_000);
    state.book.positions = {
      long: { asset: 'long', quantity: 1, averagePrice: 90, realizedPnl: 0 },
      trailed: { asset: 'trailed', quantity: 2, averagePrice: 80, realizedPnl: 0 },
      short: { asset: 'short', quantity: -2, averagePrice: 100, realizedPnl: 0 },
      naked: { asset: 'naked', quantity: 3, averagePrice: 10, realizedPnl: 0 },
    };
    state.protection = { long: { stopLoss: 98, takeProfit: null }, trailed: { stopLoss: 101, takeProfit: null }, short: { stopLoss: 103, takeProfit: null } };
    const view = riskView(state, { long: 100, trailed: 100, short: 100, naked: 10 }, Date.UTC(2025, 0, 1));
    const byAsset = Object.fromEntries(view.positions.map((p) => [p.asset, p]));
    // Long 1 from 100 to 98: 2. A stop trailed above the mark loses nothing. Short 2 from 100 to 103: 6.
    expect(byAsset.long).toEqual({ asset: 'long', exposure: 100, side: 'LONG', openRisk: 2 });
    expect(byAsset.trailed).toEqual({ asset: 'trailed', exposure: 200, side: 'LONG', openRisk: 0 });
    expect(byAsset.short).toEqual({ asset: 'short', exposure: 200, side: 'SHORT', openRisk: 6 });
    // No stop known: left to the risk module (exposure × the per-trade stop).
    expect(byAsset.naked).toEqual({ asset: 'naked', exposure: 30, side: 'LONG' });
  });

  it('no approved trade breaks a limit, whatever the portfolio (property, checked by an independent calculation)', () => {
    const position = fc.record({
      asset: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      exposure: fc.double({ min: 0, max: 5000, noNaN: true }),
      openRisk: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: undefined }),
    });
    fc.assert(fc.property(
      fc.double({ min: 1000, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.double({ min: -0.1, max: 0.05, noNaN: true }),
      fc.array(position, { maxLength: 6 }), fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.double({ min: 0.0001, max: 0.2, noNaN: true }),
      (equity, drawdown, dailyFraction, positions, asset, sizeFraction) => {
        const size = equity * sizeFraction;
        const cleaned = positions.map((p) => (p.openRisk === undefined ? { asset: p.asset, exposure: p.exposure } : p));
        const state = { totalEquity: equity, currentDrawdown: drawdown, dailyPnl: dailyFraction * equity, positions: cleaned };
        const r = validateTrade({ signalId: 's', asset, signalType: 'LONG', price: 100, confidence: 1 }, state, size, config);
        if (!r.approved) return;
        const loss = size * config.perTradeStopLoss;
        const sector = (x: string) => (x in config.sectors ? config.sectors[x as keyof typeof config.sectors] : x);
        const sum = (f: (p: (typeof cleaned)[number]) => boolean) => cleaned.filter(f).reduce((s, p) => s + p.exposure, 0);
        const eps = 1e-12;
        expect(drawdown + loss / equity).toBeLessThanOrEqual(config.maxDrawdown + eps);
        expect(Math.max(0, -dailyFraction * equity) + loss).toBeLessThanOrEqual(equity * config.dailyLossLimit * (1 + eps));
        expect(size / equity).toBeLessThanOrEqual(config.maxPositionSize + eps);
        expect((sum((p) => p.asset === asset) + size) / equity).toBeLessThanOrEqual(config.maxSingleAssetExposure + eps);
        expect((cleaned.reduce((s, p) => s + ('openRisk' in p && p.openRisk !== undefined ? p.openRisk : p.exposure * config.perTradeStopLoss), 0) + loss) / equity)
          .toBeLessThanOrEqual(config.maxPortfolioRisk + eps);
        expect((sum((p) => sector(p.asset) === sector(asset)) + size) / equity).toBeLessThanOrEqual(config.maxSectorExposure + eps);
      },
    ), { numRuns: 2000 });
  });
});
