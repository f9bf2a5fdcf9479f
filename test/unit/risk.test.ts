import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRiskConfig } from '../../src/config/risk';
import { assessRisk, riskLevel, riskSettingsOf, validateTrade, type PortfolioState, type RiskSignal } from '../../src/domain/risk';
import { protectiveLevels, type SignalType } from '../../src/domain/signals';
import { newTradingState, protect } from '../../src/domain/trading/core';

const config = loadRiskConfig();
const signal = (over: Partial<RiskSignal> = {}): RiskSignal => ({ signalId: 's1', asset: 'bitcoin', signalType: 'LONG', price: 50_000, confidence: 1, ...over });
const state = (over: Partial<PortfolioState> = {}): PortfolioState => ({ totalEquity: 10_000, currentDrawdown: 0, dailyPnl: 0, positions: [], ...over });

describe('risk module, hand-worked', () => {
  it('ships the seed defaults', () => {
    expect(config).toEqual({
      maxDrawdown: 0.2, drawdownWarningLevel: 0.15, dailyLossLimit: 0.05, perTradeStopLoss: 0.02, maxPositionSize: 0.1, maxSingleAssetExposure: 0.15,
      warningLevel: 0.8, basePositionPercent: 0.02, minPositionSize: 0.001, riskRewardRatio: 2, trailingStopPct: null, stopCooldownMinutes: 240,
      maxPortfolioRisk: 0.25, maxSectorExposure: 0.3, sectors: expect.objectContaining({ bitcoin: 'store_of_value', ethereum: 'layer1', solana: 'layer1' }),
      maxCorrelationRisk: 0.8, correlationLookbackDays: 30, volatilityThreshold: 0.05, volatilityWarningThreshold: 0.04, lowLiquidityThreshold: 1_000_000,
      confidenceThreshold: 0.5, positionSizingWeights: { fixedPercent: 0.3, kelly: 0.3, volatility: 0.25, riskParity: 0.15 },
      kellyMinScoredSignals: 20, volatilityTarget: 0.02, processingTimeoutMs: 5000,
    });
  });

  it('without market data or a track record sizes at equity × 2% × confidence, caps at 10%, and refuses under 0.1% of equity', () => {
    expect(assessRisk(signal({ confidence: 0.931 }), state({ totalEquity: 100_000 }), config).recommendedPositionSize).toBeCloseTo(1862, 9);
    const capped = assessRisk(signal(), state(), { ...config, basePositionPercent: 0.2 });
    expect(capped.recommendedPositionSize).toBe(1000);
    expect(capped.positionSizing.limitedBy).toBe('positionSize');
    // 0.02 × 0.6 × $800 = $9.60, under 0.1% × $10,000 = $10 → no trade.
    const small = assessRisk(signal({ confidence: 0.6 }), state(), { ...config, basePositionPercent: 0.0016 });
    expect(small).toMatchObject({ isApproved: false, recommendedPositionSize: 0, rejectedBy: 'minimumSize' });
    expect(small.rejectionReason).toBe('Position size $9.60 is below the minimum 0.10% of equity ($10.00)');
  });

  it('assesses the seed example: approved, stop 2% below, target at 2R, MEDIUM on fractions', () => {
    const a = assessRisk(signal({ asset: 'FTM', price: 0.4111, confidence: 0.931 }), state({ totalEquity: 100_000 }), config);
    expect(a.isApproved).toBe(true);
    expect(a.recommendedPositionSize).toBeCloseTo(1862, 9);
    expect(a.stopLossPrice).toBeCloseTo(0.402878, 12);
    expect(a.takeProfitPrice).toBeCloseTo(0.427544, 12);
    expect(a.riskRewardRatio).toBeCloseTo(2, 12);
    expect(a.positionRiskPercent).toBeCloseTo(0.01862, 12);
    expect(a.portfolioHeat).toBeCloseTo(0.01862, 12);
    // 0.4 × 0.1862 + 0.3 × 0.01862 + 0.3 × 0.01862 = 0.085652
    expect(a.riskScore).toBeCloseTo(0.085652, 12);
    expect(a.riskLevel).toBe('MEDIUM');
    expect(a.dailyPnlImpact).toBeCloseTo(-37.24, 9);
    expect(a.riskWarnings).toEqual([]);
  });

  it('puts a short\'s stop above and its target below', () => {
    const a = assessRisk(signal({ signalType: 'SHORT', price: 100 }), state(), config);
    expect(a.stopLossPrice).toBeCloseTo(102, 12);
    expect(a.takeProfitPrice).toBeCloseTo(96, 12);
  });

  it('rejects on drawdown: 19.97% + $200 × 2% / $10,000 = 20.01% > 20%', () => {
    const r = validateTrade(signal(), state({ currentDrawdown: 0.1997 }), 200, config);
    expect(r.approved).toBe(false);
    expect(r.rejectionReason).toBe('Trade would exceed maximum drawdown limit. Current: 19.97%, Potential: 20.01%, Limit: 20.00%');
    expect(r.limitsUsed.drawdown).toBeCloseTo(0.2001 / 0.2, 12);
  });

  it('warns past the seed\'s drawdown warning level of 15%', () => {
    const r = validateTrade(signal(), state({ currentDrawdown: 0.16 }), 200, config);
    expect(r).toMatchObject({ approved: true, warnings: ['Approaching drawdown limit: 16.04% (limit: 20.00%)'] });
    // 14.96% + 0.04% = 15.00% exactly: not past it; 14.97% + 0.04% is.
    expect(validateTrade(signal(), state({ currentDrawdown: 0.1496 }), 200, config).warnings).toEqual([]);
    expect(validateTrade(signal(), state({ currentDrawdown: 0.1497 }), 200, config).warnings).toEqual(['Approaching drawdown limit: 15.01% (limit: 20.00%)']);
    // And at the limit itself: 19.96% + 0.04% = 20.00% (0.20000000000000004 in binary) is allowed.
    expect(validateTrade(signal(), state({ currentDrawdown: 0.1996 }), 200, config).approved).toBe(true);
  });

  it('a day at the daily loss limit rejects the next trade', () => {
    // Limit $500. Lost $480 today: + $4 at risk = $484, approved with a warning (> $400).
    const near = validateTrade(signal(), state({ dailyPnl: -480 }), 200, config);
    expect(near).toMatchObject({ approved: true, warnings: ['Approaching daily loss limit: $484.00 (limit: $500.00)'] });
    // Lost $497: + $4 = $501 > $500.
    const over = validateTrade(signal(), state({ dailyPnl: -497 }), 200, config);
    expect(over.approved).toBe(false);
    expect(over.rejectionReason).toBe('Trade would exceed daily loss limit. Current daily loss: $497.00, Potential new loss: $501.00, Limit: $500.00');
    // Profits do not offset the limit the other way.
    expect(validateTrade(signal(), state({ dailyPnl: 900 }), 200, config).approved).toBe(true);
  });

  it('rejects a position above 10% of equity, and single-asset exposure above 15%', () => {
    expect(validateTrade(signal(), state(), 1001, config).rejectionReason).toBe('Position size 10.01% of equity exceeds the maximum 10.00%');
    const held = state({ positions: [{ asset: 'bitcoin', exposure: 1400 }, { asset: 'ethereum', exposure: 3000 }] });
    expect(validateTrade(signal(), held, 200, config).rejectionReason).toBe('Exposure to bitcoin would reach 16.00% of equity, above the 15.00% limit');
    expect(validateTrade(signal({ asset: 'solana' }), held, 200, { ...config, sectors: {} }).approved).toBe(true);
  });

  // Four positions' stops: a at 2,000 below its mark, b without a stop (1,000 × the 2% stop = 20), and the
  // new trade's 200 × 2% = 4: (2,000 + 20 + 4) / 10,000 = 20.24%, 81% of the 25% limit.
  const book = (aRisk: number) => state({ positions: [{ asset: 'a', exposure: 5000, openRisk: aRisk }, { asset: 'b', exposure: 1000 }] });
  const isolated = { ...config, sectors: {} };
  it('portfolio risk: what every open stop would lose plus this trade, at and around the 25% limit', () => {
    const warned = validateTrade(signal({ asset: 'c' }), book(2000), 200, isolated);
    expect(warned).toMatchObject({ approved: true, warnings: ['Approaching portfolio risk limit: 20.24% (limit: 25.00%)'] });
    expect(warned.limitsUsed.portfolioRisk).toBeCloseTo(0.2024 / 0.25, 12);
    // Exactly at the limit: 2,476 + 20 + 4 = 2,500 is 25.00%, allowed.
    expect(validateTrade(signal({ asset: 'c' }), book(2476), 200, isolated).approved).toBe(true);
    expect(validateTrade(signal({ asset: 'c' }), book(2480), 200, isolated).rejectionReason)
      .toBe('Portfolio risk would reach 25.04% of equity (open stops $2500.00 + this trade $4.00), above the 25.00% limit');
    // A position without a known stop counts at the per-trade stop distance.
    const unknown = state({ positions: [{ asset: 'a', exposure: 5000 }] });
    expect(validateTrade(signal({ asset: 'c' }), unknown, 200, isolated).limitsUsed.portfolioRisk).toBeCloseTo((5000 * 0.02 + 4) / 10_000 / 0.25, 12);
  });

  it('sector exposure: the open positions of the same sector plus this one, at and around the 30% limit', () => {
    const defi = { ...config, sectors: { a: 'defi', b: 'defi', c: 'defi' } };
    const held = (a: number) => state({ positions: [{ asset: 'a', exposure: a }, { asset: 'b', exposure: 1300 }, { asset: 'x', exposure: 4000 }] });
    // 1,500 + 1,300 + 200 = 3,000: exactly 30%, allowed; x is in no sector of theirs and does not count.
    expect(validateTrade(signal({ asset: 'c' }), held(1500), 200, defi).approved).toBe(true);
    expect(validateTrade(signal({ asset: 'c' }), held(1500), 201, defi).rejectionReason).toBe('Exposure to sector defi would reach 30.01% of equity, above the 30.00% limit');
    // 1,000 + 1,300 + 200 = 25%: 83% of the limit, a warning.
    expect(validateTrade(signal({ asset: 'c' }), held(1000), 200, defi).warnings).toContain('Approaching sector exposure limit for defi: 25.00% (limit: 30.00%)');
    // Without a sector an asset is a sector of its own.
    expect(validateTrade(signal({ asset: 'c' }), held(1500), 201, { ...config, sectors: {} }).approved).toBe(true);
  });

  it('the first rejection wins: drawdown before daily loss', () => {
    const r = validateTrade(signal(), state({ currentDrawdown: 0.25, dailyPnl: -1000 }), 200, config);
    expect(r.rejectionReason).toMatch(/^Trade would exceed maximum drawdown limit/);
  });

  it('refuses a signal under the confidence threshold, whatever its size', () => {
    const a = assessRisk(signal({ confidence: 0.499 }), state({ totalEquity: 1_000_000 }), config);
    expect(a).toMatchObject({ isApproved: false, rejectedBy: 'confidence', rejectionReason: 'Signal confidence 0.499 is below the 0.500 threshold' });
    expect(assessRisk(signal({ confidence: 0.5 }), state({ totalEquity: 1_000_000 }), config).isApproved).toBe(true);
  });

  it('classifies the composite score at the seed thresholds', () => {
    expect(riskLevel(2000, 0, 0)).toEqual({ level: 'LOW', score: 0.08 });
    expect(riskLevel(1000, 0.1, 0.1).level).toBe('MEDIUM');
    expect(riskLevel(0, 0.3, 0.3).level).toBe('HIGH');
    expect(riskLevel(10_000, 0, 0).level).toBe('CRITICAL');
    expect(riskLevel(50_000, 3, 3).score).toBeCloseTo(1, 12);
  });
});

describe('the stop and target a signal advertises', () => {
  it('are those the core sets on a fill at its price, and those its assessment reports, to the bit', () => {
    fc.assert(fc.property(
      fc.constantFrom<SignalType>('LONG', 'SHORT'), fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.double({ min: 0.5, max: 5, noNaN: true }),
      (signalType, price, stopLossPct, riskRewardRatio) => {
        const risk = { ...config, perTradeStopLoss: stopLossPct, riskRewardRatio };
        const advertised = protectiveLevels(signalType, price, riskSettingsOf(risk));
        // The book after a fill at the signal's price.
        const filled = newTradingState(10_000);
        filled.book.positions.x = { asset: 'x', quantity: signalType === 'LONG' ? 1 : -1, averagePrice: price, realizedPnl: 0 };
        const rules = { risk, fillModel: { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 } };
        expect(protect(filled, 'x', price, rules)).toEqual(advertised);
        const assessed = assessRisk(signal({ asset: 'x', signalType, price }), state({ totalEquity: 10_000 }), risk);
        expect({ stopLoss: assessed.stopLossPrice, takeProfit: assessed.takeProfitPrice }).toEqual(advertised);
      },
    ), { numRuns: 2000 });
  });
});
