import type { RiskSettings, SignalType } from './signals';

/** The seed's risk limits (config/risk.json), all fractions of equity unless named otherwise. */
export interface RiskConfig {
  maxDrawdown: number;
  dailyLossLimit: number;
  perTradeStopLoss: number;
  maxPositionSize: number;
  maxSingleAssetExposure: number;
  /** Warn when a measure passes this share of its limit (0.8 = 80%). */
  warningLevel: number;
  basePositionPercent: number;
  minPositionUsd: number;
  riskRewardRatio: number;
  /** Trail the stop this fraction behind the best price since entry; null for a fixed stop. */
  trailingStopPct: number | null;
  /** After a stop-out, no new entry in that asset for this many minutes. */
  stopCooldownMinutes: number;
  /** What the book may lose if every open stop fired, plus the new trade's risk, as a fraction of equity (the seed's MAX_PORTFOLIO_RISK). */
  maxPortfolioRisk: number;
  /** Exposure to one sector (open positions plus the new one), as a fraction of equity. */
  maxSectorExposure: number;
  /** Asset → sector (layer1, defi, exchange, ai, stablecoin, …); an asset without one is a sector of its own. */
  sectors: Record<string, string>;
}

/** What a strategy's signal carries as its size hint and protective levels: the same numbers that execute. */
export function riskSettingsOf(config: RiskConfig): RiskSettings {
  return { positionSize: config.basePositionPercent, maxPositionSize: config.maxPositionSize, stopLossPct: config.perTradeStopLoss, riskRewardRatio: config.riskRewardRatio };
}

export interface RiskSignal {
  signalId: string;
  asset: string;
  signalType: SignalType;
  price: number;
  confidence: number;
}

export interface PortfolioPosition {
  asset: string;
  /** Market value of the position in USD, positive for long and short alike. */
  exposure: number;
  /** USD the position loses from its mark if its stop fires; absent when no stop is known (then exposure × the per-trade stop). */
  openRisk?: number;
}

export interface PortfolioState {
  totalEquity: number;
  /** Fall of equity from its peak, as a fraction (0.05 = 5% below the peak). */
  currentDrawdown: number;
  /** Today's P&L in USD since 00:00 UTC; losses are negative. */
  dailyPnl: number;
  positions: PortfolioPosition[];
}

export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** Position size in USD: equity × base% × confidence, capped at max% of equity; under the minimum → 0 (no trade). */
export function positionSize(signal: Pick<RiskSignal, 'confidence'>, state: Pick<PortfolioState, 'totalEquity'>, config: RiskConfig): number {
  const size = Math.min(state.totalEquity * config.basePositionPercent * signal.confidence, state.totalEquity * config.maxPositionSize);
  return size < config.minPositionUsd ? 0 : size;
}

/** Stop at `perTradeStopLoss` against the position; take profit at stop distance × reward ratio in its favour. */
export function stopLossPrice(signalType: SignalType, price: number, config: RiskConfig): number {
  return signalType === 'LONG' ? price * (1 - config.perTradeStopLoss) : price * (1 + config.perTradeStopLoss);
}

export function takeProfitPrice(signalType: SignalType, price: number, stopLoss: number, config: RiskConfig): number {
  const distance = Math.abs(price - stopLoss) * config.riskRewardRatio;
  return signalType === 'LONG' ? price + distance : price - distance;
}

export interface ValidationResult {
  approved: boolean;
  rejectionReason: string | null;
  /** The limit that refused the trade (`minimumSize` when it was too small to place), null when approved. */
  rejectedBy: LimitName | 'minimumSize' | null;
  warnings: string[];
  limitsUsed: Record<LimitName, number>;
}

export type LimitName = (typeof CHECK_ORDER)[number];

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const usd = (x: number) => `$${x.toFixed(2)}`;

const CHECK_ORDER = ['drawdown', 'dailyLoss', 'positionSize', 'singleAssetExposure', 'portfolioRisk', 'sectorExposure'] as const;

/** An asset's sector; one without a configured sector is a sector of its own. */
export const sectorOf = (asset: string, config: Pick<RiskConfig, 'sectors'>) =>
  Object.hasOwn(config.sectors, asset) ? config.sectors[asset] : `(${asset})`;

/**
 * The seed's validator: drawdown, daily loss, position size, single-asset exposure, then the book's
 * total risk (every open stop firing, plus this trade's stop) and sector exposure — in that order;
 * the first rejection wins, warnings (past `warningLevel` of a limit) are collected from the checks
 * that pass. `limitsUsed` is each measure as a share of its limit.
 */
export function validateTrade(signal: RiskSignal, state: PortfolioState, size: number, config: RiskConfig): ValidationResult {
  const equity = state.totalEquity;
  const potentialLoss = size * config.perTradeStopLoss;
  const drawdownAfter = state.currentDrawdown + potentialLoss / equity;
  const dailyLossAfter = Math.abs(Math.min(0, state.dailyPnl)) + potentialLoss;
  const dailyLimit = equity * config.dailyLossLimit;
  const sizeFraction = size / equity;
  const assetExposureAfter = (state.positions.filter((p) => p.asset === signal.asset).reduce((s, p) => s + p.exposure, 0) + size) / equity;
  const openRisk = state.positions.reduce((s, p) => s + (p.openRisk ?? p.exposure * config.perTradeStopLoss), 0);
  const portfolioRiskAfter = (openRisk + potentialLoss) / equity;
  const sector = sectorOf(signal.asset, config);
  const sectorExposureAfter = (state.positions.filter((p) => sectorOf(p.asset, config) === sector).reduce((s, p) => s + p.exposure, 0) + size) / equity;

  const used = {
    drawdown: drawdownAfter / config.maxDrawdown,
    dailyLoss: dailyLossAfter / dailyLimit,
    positionSize: sizeFraction / config.maxPositionSize,
    singleAssetExposure: assetExposureAfter / config.maxSingleAssetExposure,
    portfolioRisk: portfolioRiskAfter / config.maxPortfolioRisk,
    sectorExposure: sectorExposureAfter / config.maxSectorExposure,
  };
  // Messages are built only for the check that needs one: backtests assess thousands of signals.
  const message = (key: keyof typeof used, kind: 'reject' | 'warn'): string => {
    switch (key) {
      case 'drawdown': return kind === 'reject'
        ? `Trade would exceed maximum drawdown limit. Current: ${pct(state.currentDrawdown)}, Potential: ${pct(drawdownAfter)}, Limit: ${pct(config.maxDrawdown)}`
        : `Approaching drawdown limit: ${pct(drawdownAfter)} (limit: ${pct(config.maxDrawdown)})`;
      case 'dailyLoss': return kind === 'reject'
        ? `Trade would exceed daily loss limit. Current daily loss: ${usd(Math.abs(Math.min(0, state.dailyPnl)))}, Potential new loss: ${usd(dailyLossAfter)}, Limit: ${usd(dailyLimit)}`
        : `Approaching daily loss limit: ${usd(dailyLossAfter)} (limit: ${usd(dailyLimit)})`;
      case 'positionSize': return kind === 'reject'
        ? `Position size ${pct(sizeFraction)} of equity exceeds the maximum ${pct(config.maxPositionSize)}`
        : `Large position: ${pct(sizeFraction)} of equity (limit: ${pct(config.maxPositionSize)})`;
      case 'singleAssetExposure': return kind === 'reject'
        ? `Exposure to ${signal.asset} would reach ${pct(assetExposureAfter)} of equity, above the ${pct(config.maxSingleAssetExposure)} limit`
        : `Approaching single-asset exposure limit for ${signal.asset}: ${pct(assetExposureAfter)} (limit: ${pct(config.maxSingleAssetExposure)})`;
      case 'portfolioRisk': return kind === 'reject'
        ? `Portfolio risk would reach ${pct(portfolioRiskAfter)} of equity (open stops ${usd(openRisk)} + this trade ${usd(potentialLoss)}), above the ${pct(config.maxPortfolioRisk)} limit`
        : `Approaching portfolio risk limit: ${pct(portfolioRiskAfter)} (limit: ${pct(config.maxPortfolioRisk)})`;
      case 'sectorExposure': return kind === 'reject'
        ? `Exposure to sector ${sector} would reach ${pct(sectorExposureAfter)} of equity, above the ${pct(config.maxSectorExposure)} limit`
        : `Approaching sector exposure limit for ${sector}: ${pct(sectorExposureAfter)} (limit: ${pct(config.maxSectorExposure)})`;
    }
  };
  const warnings: string[] = [];
  for (const key of CHECK_ORDER) {
    if (used[key] > 1) return { approved: false, rejectionReason: message(key, 'reject'), rejectedBy: key, warnings, limitsUsed: used };
    if (used[key] > config.warningLevel) warnings.push(message(key, 'warn'));
  }
  return { approved: true, rejectionReason: null, rejectedBy: null, warnings, limitsUsed: used };
}
/**
 * Composite score 0.4·min(size/10000, 1) + 0.3·min(heat, 1) + 0.3·min(positionRisk, 1), with heat and
 * position risk as fractions of equity: ≤ 0.08 LOW, ≤ 0.12 MEDIUM, ≤ 0.18 HIGH, else CRITICAL.
 */
export function riskLevel(sizeUsd: number, portfolioHeat: number, positionRisk: number): { level: RiskLevel; score: number } {
  const raw = 0.4 * Math.min(sizeUsd / 10_000, 1) + 0.3 * Math.min(portfolioHeat, 1) + 0.3 * Math.min(positionRisk, 1);
  // Rounded so a score of exactly 0.08 in decimal (0.08000000000000002 in binary) is still LOW.
  const score = Math.round(raw * 1e12) / 1e12;
  const level: RiskLevel = score <= 0.08 ? 'LOW' : score <= 0.12 ? 'MEDIUM' : score <= 0.18 ? 'HIGH' : 'CRITICAL';
  return { level, score };
}

export interface RiskAssessment {
  signalId: string;
  asset: string;
  signalType: SignalType;
  signalPrice: number;
  signalConfidence: number;
  isApproved: boolean;
  rejectionReason: string | null;
  rejectedBy: ValidationResult['rejectedBy'];
  riskWarnings: string[];
  recommendedPositionSize: number;
  stopLossPrice: number;
  takeProfitPrice: number;
  riskRewardRatio: number;
  /** Position as a fraction of equity (the seed's position risk). */
  positionRiskPercent: number;
  /** All open exposure plus this position, as a fraction of equity. */
  portfolioHeat: number;
  riskLevel: RiskLevel;
  riskScore: number;
  currentDrawdown: number;
  /** The loss this trade adds to today's P&L if its stop is hit (USD, negative). */
  dailyPnlImpact: number;
  limitsUsed: ValidationResult['limitsUsed'];
  config: RiskConfig;
  processingTimeMs: number;
}

/** The seed's orchestrator: size, protective levels, risk metrics, validation and risk level in one assessment. */
export function assessRisk(signal: RiskSignal, state: PortfolioState, config: RiskConfig, clock: () => number = () => performance.now()): RiskAssessment {
  const started = clock();
  const size = positionSize(signal, state, config);
  const stop = stopLossPrice(signal.signalType, signal.price, config);
  const target = takeProfitPrice(signal.signalType, signal.price, stop, config);
  const positionRisk = size / state.totalEquity;
  const heat = (state.positions.reduce((s, p) => s + p.exposure, 0) + size) / state.totalEquity;
  const validation = size === 0
    ? {
      approved: false, rejectionReason: `Position size below the $${config.minPositionUsd} minimum`, rejectedBy: 'minimumSize' as const, warnings: [],
      limitsUsed: validateTrade(signal, state, 0, config).limitsUsed,
    }
    : validateTrade(signal, state, size, config);
  const { level, score } = riskLevel(size, heat, positionRisk);
  return {
    signalId: signal.signalId,
    asset: signal.asset,
    signalType: signal.signalType,
    signalPrice: signal.price,
    signalConfidence: signal.confidence,
    isApproved: validation.approved,
    rejectedBy: validation.rejectedBy,
    rejectionReason: validation.rejectionReason,
    riskWarnings: validation.warnings,
    recommendedPositionSize: size,
    stopLossPrice: stop,
    takeProfitPrice: target,
    riskRewardRatio: Math.abs(target - signal.price) / Math.abs(signal.price - stop),
    positionRiskPercent: positionRisk,
    portfolioHeat: heat,
    riskLevel: level,
    riskScore: score,
    currentDrawdown: state.currentDrawdown,
    dailyPnlImpact: -size * config.perTradeStopLoss,
    limitsUsed: validation.limitsUsed,
    config,
    processingTimeMs: clock() - started,
  };
}
