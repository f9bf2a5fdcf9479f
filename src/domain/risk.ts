import { conditionsCorrelation, type MarketConditions } from './market-conditions';
import { positionSize, type PositionSizing, positionSizing, type ScoredRecord, type SizingInput, type SizingWeights } from './position-sizing';
import { type RiskSettings, type SignalType, stopLossPrice, takeProfitPrice } from './signals';

/** The seed's risk configuration (config/risk.json); fractions of equity unless named otherwise. */
export interface RiskConfig {
  maxDrawdown: number;
  /** Warn when drawdown after the trade passes this (the seed's explicit drawdown_warning_level, 0.15). */
  drawdownWarningLevel: number;
  dailyLossLimit: number;
  perTradeStopLoss: number;
  maxPositionSize: number;
  maxSingleAssetExposure: number;
  /** Warn when a measure passes this share of its limit (0.8 = 80%). */
  warningLevel: number;
  basePositionPercent: number;
  /** The smallest position worth placing, as a fraction of equity (the seed's min_position_size). */
  minPositionSize: number;
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
  /** Exposure-weighted correlation of the new position with the open ones (−1…1, direction-adjusted). */
  maxCorrelationRisk: number;
  /** Daily returns over this many days give correlations and volatilities. */
  correlationLookbackDays: number;
  /** The asset's daily volatility (standard deviation of daily returns) above which no trade is taken. */
  volatilityThreshold: number;
  /** … and above which a warning is given. */
  volatilityWarningThreshold: number;
  /** USD traded in the last 24 hours below which no trade is taken. */
  lowLiquidityThreshold: number;
  /** Signals below this confidence are not traded. */
  confidenceThreshold: number;
  positionSizingWeights: SizingWeights;
  /** Scored signals a track record needs before its Kelly size counts. */
  kellyMinScoredSignals: number;
  /** Daily volatility at which the volatility-targeted size equals the fixed percent (smaller when more volatile). */
  volatilityTarget: number;
  /** A live assessment (loading the book and the market included) that takes longer is refused: its numbers are stale. */
  processingTimeoutMs: number;
}

/** What a strategy's signal carries as its size hint and protective levels: the same numbers that execute. */
export function riskSettingsOf(config: RiskConfig): RiskSettings {
  return { positionSize: config.basePositionPercent, maxPositionSize: config.maxPositionSize, stopLossPct: config.perTradeStopLoss, riskRewardRatio: config.riskRewardRatio };
}

export interface RiskSignal {
  signalId: string;
  asset: string;
  signalType: SignalType;
  /** The price the signal quotes: used for the assessment's indicative levels, never for the fill. */
  price: number;
  confidence: number;
  /** The scored past signals of the strategies behind it (for Kelly sizing); absent for an external signal. */
  trackRecord?: ScoredRecord;
}

export interface PortfolioPosition {
  asset: string;
  /** Market value of the position in USD, positive for long and short alike. */
  exposure: number;
  /** LONG when absent. */
  side?: SignalType;
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

/** The checks, in the order they run; the first rejection wins. */
export const CHECK_ORDER = [
  'drawdown', 'dailyLoss', 'positionSize', 'singleAssetExposure', 'portfolioRisk', 'sectorExposure', 'correlation', 'volatility', 'liquidity',
] as const;

export type LimitName = (typeof CHECK_ORDER)[number];

/** One limit as the trade would leave it: the measure, the limit in the same unit, and the measure as a share of the limit. */
export interface LimitUse {
  value: number | null;
  limit: number;
  /** 1 = at the limit; for liquidity (a floor) the limit over the value. Null when the measure is not known. */
  utilization: number | null;
  unit: 'fraction' | 'usd';
}

export interface ValidationResult {
  approved: boolean;
  rejectionReason: string | null;
  /** The rule that refused the trade, null when approved (`processingTimeout` is the live driver's: the assessment took too long). */
  rejectedBy: LimitName | 'minimumSize' | 'confidence' | 'processingTimeout' | null;
  warnings: string[];
  /** Each limit's utilisation (0 when not known). */
  limitsUsed: Record<LimitName, number>;
  enforcement: Record<LimitName, LimitUse>;
  /** Exposure-weighted, direction-adjusted correlation with the open positions (0 with none known). */
  correlationRisk: number;
  /** The asset's daily volatility; null when fewer daily returns are known than it needs. */
  marketVolatility: number | null;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const round12 = (x: number) => Math.round(x * 1e12) / 1e12;
const usd = (x: number) => `$${x.toFixed(2)}`;

/** What a position loses if its stop fires; without a known stop, its exposure × the per-trade stop. */
const openRiskOf = (p: PortfolioPosition, config: Pick<RiskConfig, 'perTradeStopLoss'>) => p.openRisk ?? p.exposure * config.perTradeStopLoss;

/** An asset's sector; one without a configured sector is a sector of its own. */
export const sectorOf = (asset: string, config: Pick<RiskConfig, 'sectors'>) =>
  Object.hasOwn(config.sectors, asset) ? config.sectors[asset] : `(${asset})`;

/**
 * The new position's correlation with the open ones: each open position's correlation of daily
 * returns with the asset, negated when the two point opposite ways (a hedge), weighted by exposure.
 * Positions in the same asset are the single-asset limit's business; unknown correlations are left out.
 */
export function correlationRisk(signal: Pick<RiskSignal, 'asset' | 'signalType'>, positions: PortfolioPosition[], market: MarketConditions | undefined): number {
  const own = market?.[signal.asset];
  if (!own) return 0;
  let weighted = 0;
  let weight = 0;
  for (const p of positions) {
    const other = market[p.asset];
    if (p.asset === signal.asset || !other || p.exposure <= 0) continue;
    const r = conditionsCorrelation(own, other);
    if (r === null) continue;
    weighted += p.exposure * r * ((p.side ?? 'LONG') === signal.signalType ? 1 : -1);
    weight += p.exposure;
  }
  return weight > 0 ? weighted / weight : 0;
}

/** What each limit measures for a trade of `size`: the numbers the checks compare and their messages quote. */
interface TradeMeasures {
  potentialLoss: number;
  drawdownAfter: number;
  dailyLossAfter: number;
  dailyLimit: number;
  sizeFraction: number;
  assetExposureAfter: number;
  openRisk: number;
  portfolioRiskAfter: number;
  sector: string;
  sectorExposureAfter: number;
  correlation: number;
  volatility: number | null;
  liquidity: number | null;
}

function tradeMeasures(signal: RiskSignal, state: PortfolioState, size: number, config: RiskConfig, market?: MarketConditions): TradeMeasures {
  const equity = state.totalEquity;
  const potentialLoss = size * config.perTradeStopLoss;
  const sector = sectorOf(signal.asset, config);
  let assetExposure = 0;
  let openRisk = 0;
  let sectorExposure = 0;
  for (const p of state.positions) {
    if (p.asset === signal.asset) assetExposure += p.exposure;
    openRisk += openRiskOf(p, config);
    if (sectorOf(p.asset, config) === sector) sectorExposure += p.exposure;
  }
  const conditions = market?.[signal.asset];
  const volatility = conditions?.dailyVolatility ?? null;
  return {
    potentialLoss,
    drawdownAfter: state.currentDrawdown + potentialLoss / equity,
    dailyLossAfter: Math.abs(Math.min(0, state.dailyPnl)) + potentialLoss,
    dailyLimit: equity * config.dailyLossLimit,
    sizeFraction: size / equity,
    assetExposureAfter: (assetExposure + size) / equity,
    openRisk,
    portfolioRiskAfter: (openRisk + potentialLoss) / equity,
    sector,
    sectorExposureAfter: (sectorExposure + size) / equity,
    // Rounded to 12 decimals, so a measure that is exactly the limit in decimal is not refused for a last binary digit.
    correlation: round12(correlationRisk(signal, state.positions, market)),
    volatility: volatility === null ? null : round12(volatility),
    liquidity: conditions?.tradedValue24h ?? null,
  };
}

/** A limit's measure after the trade (null when not known). */
function measureOf(key: LimitName, m: TradeMeasures): number | null {
  switch (key) {
    case 'drawdown': return m.drawdownAfter;
    case 'dailyLoss': return m.dailyLossAfter;
    case 'positionSize': return m.sizeFraction;
    case 'singleAssetExposure': return m.assetExposureAfter;
    case 'portfolioRisk': return m.portfolioRiskAfter;
    case 'sectorExposure': return m.sectorExposureAfter;
    case 'correlation': return m.correlation;
    case 'volatility': return m.volatility;
    case 'liquidity': return m.liquidity;
  }
}

/** A limit in the unit of its measure. */
function limitOf(key: LimitName, m: TradeMeasures, config: RiskConfig): number {
  switch (key) {
    case 'drawdown': return config.maxDrawdown;
    case 'dailyLoss': return m.dailyLimit;
    case 'positionSize': return config.maxPositionSize;
    case 'singleAssetExposure': return config.maxSingleAssetExposure;
    case 'portfolioRisk': return config.maxPortfolioRisk;
    case 'sectorExposure': return config.maxSectorExposure;
    case 'correlation': return config.maxCorrelationRisk;
    case 'volatility': return config.volatilityThreshold;
    case 'liquidity': return config.lowLiquidityThreshold;
  }
}

/** The measure as a share of its limit (for liquidity, a floor: the limit over the measure); null when not known. */
function utilizationOf(key: LimitName, m: TradeMeasures, config: RiskConfig): number | null {
  const value = measureOf(key, m);
  if (value === null) return null;
  return key === 'liquidity' ? limitOf(key, m, config) / value : value / limitOf(key, m, config);
}

/** A limit's measure after the trade, its limit in the same unit, and the measure as a share of the limit. */
function limitUse(key: LimitName, m: TradeMeasures, config: RiskConfig): LimitUse {
  const unit = key === 'dailyLoss' || key === 'liquidity' ? 'usd' : 'fraction';
  return { value: measureOf(key, m), limit: limitOf(key, m, config), utilization: utilizationOf(key, m, config), unit };
}

const OVER = 2;
const WARN = 1;

/**
 * One check: `OVER` the limit, past its `WARN`ing level, or 0. Drawdown, volatility and liquidity
 * compare values (their warning levels are the seed's own), not ratios, so their boundaries are exact.
 */
function breachOf(key: LimitName, m: TradeMeasures, config: RiskConfig): number {
  switch (key) {
    case 'volatility': {
      const v = m.volatility;
      return v === null ? 0 : v > config.volatilityThreshold ? OVER : v > config.volatilityWarningThreshold ? WARN : 0;
    }
    case 'liquidity': {
      const l = m.liquidity;
      return l === null ? 0 : l < config.lowLiquidityThreshold ? OVER : l * config.warningLevel < config.lowLiquidityThreshold ? WARN : 0;
    }
    case 'drawdown': {
      const d = round12(m.drawdownAfter);
      return d > config.maxDrawdown ? OVER : d > config.drawdownWarningLevel ? WARN : 0;
    }
    default: {
      // The ratio checks: their measures are always known.
      const used = utilizationOf(key, m, config)!;
      return used > 1 ? OVER : used > config.warningLevel ? WARN : 0;
    }
  }
}

/** Why a check refused the trade, or what its warning says. */
function limitMessage(key: LimitName, kind: 'reject' | 'warn', signal: RiskSignal, state: PortfolioState, m: TradeMeasures, config: RiskConfig): string {
  const reject = kind === 'reject';
  switch (key) {
    case 'drawdown': return reject
      ? `Trade would exceed maximum drawdown limit. Current: ${pct(state.currentDrawdown)}, Potential: ${pct(m.drawdownAfter)}, Limit: ${pct(config.maxDrawdown)}`
      : `Approaching drawdown limit: ${pct(m.drawdownAfter)} (limit: ${pct(config.maxDrawdown)})`;
    case 'dailyLoss': return reject
      ? `Trade would exceed daily loss limit. Current daily loss: ${usd(Math.abs(Math.min(0, state.dailyPnl)))}, Potential new loss: ${usd(m.dailyLossAfter)}, Limit: ${usd(m.dailyLimit)}`
      : `Approaching daily loss limit: ${usd(m.dailyLossAfter)} (limit: ${usd(m.dailyLimit)})`;
    case 'positionSize': return reject
      ? `Position size ${pct(m.sizeFraction)} of equity exceeds the maximum ${pct(config.maxPositionSize)}`
      : `Large position: ${pct(m.sizeFraction)} of equity (limit: ${pct(config.maxPositionSize)})`;
    case 'singleAssetExposure': return reject
      ? `Exposure to ${signal.asset} would reach ${pct(m.assetExposureAfter)} of equity, above the ${pct(config.maxSingleAssetExposure)} limit`
      : `Approaching single-asset exposure limit for ${signal.asset}: ${pct(m.assetExposureAfter)} (limit: ${pct(config.maxSingleAssetExposure)})`;
    case 'portfolioRisk': return reject
      ? `Portfolio risk would reach ${pct(m.portfolioRiskAfter)} of equity (open stops ${usd(m.openRisk)} + this trade ${usd(m.potentialLoss)}), above the ${pct(config.maxPortfolioRisk)} limit`
      : `Approaching portfolio risk limit: ${pct(m.portfolioRiskAfter)} (limit: ${pct(config.maxPortfolioRisk)})`;
    case 'sectorExposure': return reject
      ? `Exposure to sector ${m.sector} would reach ${pct(m.sectorExposureAfter)} of equity, above the ${pct(config.maxSectorExposure)} limit`
      : `Approaching sector exposure limit for ${m.sector}: ${pct(m.sectorExposureAfter)} (limit: ${pct(config.maxSectorExposure)})`;
    case 'correlation': return reject
      ? `Correlation risk ${m.correlation.toFixed(3)} of ${signal.asset} with the open positions is above the ${config.maxCorrelationRisk.toFixed(3)} limit`
      : `Approaching correlation limit: ${m.correlation.toFixed(3)} (limit: ${config.maxCorrelationRisk.toFixed(3)})`;
    case 'volatility': return reject
      ? `Daily volatility of ${signal.asset} ${pct(m.volatility!)} is above the ${pct(config.volatilityThreshold)} limit`
      : `High volatility: ${signal.asset} ${pct(m.volatility!)} daily (warning at ${pct(config.volatilityWarningThreshold)}, limit: ${pct(config.volatilityThreshold)})`;
    case 'liquidity': return reject
      ? `${signal.asset} traded ${usd(m.liquidity!)} in the last 24 hours, below the ${usd(config.lowLiquidityThreshold)} liquidity threshold`
      : `Thin market: ${signal.asset} traded ${usd(m.liquidity!)} in the last 24 hours (threshold: ${usd(config.lowLiquidityThreshold)})`;
  }
}

/** The first check (in `CHECK_ORDER`) the trade is over, or null. */
function firstBreach(m: TradeMeasures, config: RiskConfig): LimitName | null {
  for (const key of CHECK_ORDER) if (breachOf(key, m, config) === OVER) return key;
  return null;
}

/**
 * The seed's validator: drawdown, daily loss, position size, single-asset exposure, the book's total
 * risk (every open stop firing, plus this trade's stop), sector exposure, correlation with the open
 * positions, the asset's volatility and its liquidity — in that order (`CHECK_ORDER`). The first
 * rejection wins; warnings (past `warningLevel` of a limit; the seed's own levels for drawdown and
 * volatility) are collected from the checks that pass. Market checks need `market`: without the
 * asset's conditions (or enough daily returns) they are not evaluated and say so in `enforcement`.
 */
export function validateTrade(signal: RiskSignal, state: PortfolioState, size: number, config: RiskConfig, market?: MarketConditions): ValidationResult {
  const m = tradeMeasures(signal, state, size, config, market);
  const enforcement = Object.fromEntries(CHECK_ORDER.map((k) => [k, limitUse(k, m, config)])) as Record<LimitName, LimitUse>;
  const limitsUsed = Object.fromEntries(CHECK_ORDER.map((k) => [k, Math.max(0, enforcement[k].utilization ?? 0)])) as Record<LimitName, number>;
  const result = { warnings: [] as string[], limitsUsed, enforcement, correlationRisk: m.correlation, marketVolatility: m.volatility };
  for (const key of CHECK_ORDER) {
    const breach = breachOf(key, m, config);
    // Messages are built only for the checks that need one.
    if (breach === OVER) return { ...result, approved: false, rejectionReason: limitMessage(key, 'reject', signal, state, m, config), rejectedBy: key };
    if (breach === WARN) result.warnings.push(limitMessage(key, 'warn', signal, state, m, config));
  }
  return { ...result, approved: true, rejectionReason: null, rejectedBy: null };
}

/**
 * Composite score 0.4·min(size/10000, 1) + 0.3·min(heat, 1) + 0.3·min(positionRisk, 1), with heat and
 * position risk as fractions of equity: ≤ 0.08 LOW, ≤ 0.12 MEDIUM, ≤ 0.18 HIGH, else CRITICAL.
 */
export function riskLevel(sizeUsd: number, portfolioHeat: number, positionRisk: number): { level: RiskLevel; score: number } {
  const raw = 0.4 * Math.min(sizeUsd / 10_000, 1) + 0.3 * Math.min(portfolioHeat, 1) + 0.3 * Math.min(positionRisk, 1);
  // Rounded so a score of exactly 0.08 in decimal (0.08000000000000002 in binary) is still LOW.
  const score = round12(raw);
  const level: RiskLevel = score <= 0.08 ? 'LOW' : score <= 0.12 ? 'MEDIUM' : score <= 0.18 ? 'HIGH' : 'CRITICAL';
  return { level, score };
}

/** What the trade does to the book, in USD and fractions of equity. */
export interface PortfolioImpact {
  equity: number;
  openPositions: number;
  exposureBefore: number;
  exposureAfter: number;
  /** Open stops' loss plus this trade's, as a fraction of equity. */
  portfolioRiskAfter: number;
  sector: string;
  sectorExposureAfter: number;
}

export interface RiskAssessment {
  signalId: string;
  asset: string;
  signalType: SignalType;
  signalPrice: number;
  signalConfidence: number;
  /** When the assessment was made (ISO 8601, UTC): the decision time. */
  timestamp: string;
  isApproved: boolean;
  rejectionReason: string | null;
  rejectedBy: ValidationResult['rejectedBy'];
  riskWarnings: string[];
  recommendedPositionSize: number;
  positionSizeMethod: PositionSizing['method'];
  /** Each sizing component, the weights applied, the blend and the cap: why this size. */
  positionSizing: PositionSizing;
  stopLossPrice: number;
  takeProfitPrice: number;
  riskRewardRatio: number;
  /** Position as a fraction of equity (the seed's position risk). */
  positionRiskPercent: number;
  /** All open exposure plus this position, as a fraction of equity. */
  portfolioHeat: number;
  riskLevel: RiskLevel;
  riskScore: number;
  /** The asset's daily volatility over the lookback; null when not known. */
  marketVolatility: number | null;
  correlationRisk: number;
  portfolioImpact: PortfolioImpact;
  currentDrawdown: number;
  /** The loss this trade adds to today's P&L if its stop is hit (USD, negative). */
  dailyPnlImpact: number;
  limitsUsed: ValidationResult['limitsUsed'];
  /** Each limit: the measure after this trade, the limit, its utilisation. */
  riskLimitsEnforcement: ValidationResult['enforcement'];
  config: RiskConfig;
  processingTimeMs: number;
}

export interface AssessmentContext {
  /** Conditions of the signal's asset and the open positions' (daily returns, 24-hour traded value). */
  market?: MarketConditions;
  /** The decision time (ms); now when absent. */
  at?: number;
  clock?: () => number;
}

/** What a signal's trade is sized from: equity, confidence, the asset's and the open positions' volatilities, its track record. */
function sizingInput(signal: RiskSignal, state: PortfolioState, market?: MarketConditions): SizingInput {
  const positions: SizingInput['positions'] = [];
  for (const p of state.positions) if (p.asset !== signal.asset) positions.push({ exposure: p.exposure, volatility: market?.[p.asset]?.dailyVolatility ?? null });
  const volatility = market?.[signal.asset]?.dailyVolatility ?? null;
  return { equity: state.totalEquity, confidence: signal.confidence, volatility, record: signal.trackRecord, positions };
}

/** The rules that refuse a signal before any limit is weighed: too little confidence, then a size under the minimum. */
function ruleBeforeLimits(signal: RiskSignal, size: number, config: RiskConfig): 'confidence' | 'minimumSize' | null {
  if (signal.confidence < config.confidenceThreshold) return 'confidence';
  return size === 0 ? 'minimumSize' : null;
}

/** An assessment's outcome without its record: approved or the rule that refused, and the size. */
export interface RiskVerdict {
  approved: boolean;
  rejectedBy: ValidationResult['rejectedBy'];
  size: number;
  /** What the size was cut by (see `PositionSizing`). */
  limitedBy: PositionSizing['limitedBy'];
}

/**
 * What `assessRisk` decides — the same sizing, the same checks in the same order — without building
 * its record (limits, warnings, messages): a backtest asks this at every signal and keeps only the outcome.
 */
export function riskVerdict(signal: RiskSignal, state: PortfolioState, config: RiskConfig, market?: MarketConditions): RiskVerdict {
  const { size, limitedBy } = positionSize(sizingInput(signal, state, market), config);
  const rejectedBy = ruleBeforeLimits(signal, size, config) ?? firstBreach(tradeMeasures(signal, state, size, config, market), config);
  return { approved: rejectedBy === null, rejectedBy, size, limitedBy };
}

/**
 * The seed's orchestrator: the confidence threshold, blended sizing, protective levels, risk metrics,
 * validation and risk level in one assessment.
 */
export function assessRisk(signal: RiskSignal, state: PortfolioState, config: RiskConfig, ctx: AssessmentContext = {}): RiskAssessment {
  const clock = ctx.clock ?? (() => performance.now());
  const started = clock();
  const equity = state.totalEquity;
  const sizing = positionSizing(sizingInput(signal, state, ctx.market), config);
  const size = sizing.size;
  const stop = stopLossPrice(signal.signalType, signal.price, config.perTradeStopLoss);
  const target = takeProfitPrice(signal.signalType, signal.price, stop, config.riskRewardRatio);
  const positionRisk = size / equity;
  const exposureBefore = state.positions.reduce((s, p) => s + p.exposure, 0);
  const heat = (exposureBefore + size) / equity;
  const checked = validateTrade(signal, state, size, config, ctx.market);
  const early = ruleBeforeLimits(signal, size, config);
  const validation = early === 'confidence'
    ? { ...checked, approved: false, rejectedBy: early, warnings: [],
      rejectionReason: `Signal confidence ${signal.confidence.toFixed(3)} is below the ${config.confidenceThreshold.toFixed(3)} threshold` }
    : early === 'minimumSize'
      ? { ...checked, approved: false, rejectedBy: early, warnings: [],
        rejectionReason: `Position size ${usd(sizing.blended)} is below the minimum ${pct(config.minPositionSize)} of equity (${usd(equity * config.minPositionSize)})` }
      : checked;
  const { level, score } = riskLevel(size, heat, positionRisk);
  return {
    signalId: signal.signalId,
    asset: signal.asset,
    signalType: signal.signalType,
    signalPrice: signal.price,
    signalConfidence: signal.confidence,
    timestamp: new Date(ctx.at ?? Date.now()).toISOString(),
    isApproved: validation.approved,
    rejectedBy: validation.rejectedBy,
    rejectionReason: validation.rejectionReason,
    riskWarnings: validation.warnings,
    recommendedPositionSize: size,
    positionSizeMethod: sizing.method,
    positionSizing: sizing,
    stopLossPrice: stop,
    takeProfitPrice: target,
    riskRewardRatio: Math.abs(target - signal.price) / Math.abs(signal.price - stop),
    positionRiskPercent: positionRisk,
    portfolioHeat: heat,
    riskLevel: level,
    riskScore: score,
    marketVolatility: validation.marketVolatility,
    correlationRisk: validation.correlationRisk,
    portfolioImpact: {
      equity, openPositions: state.positions.length, exposureBefore, exposureAfter: exposureBefore + size,
      portfolioRiskAfter: validation.enforcement.portfolioRisk.value!, sector: sectorOf(signal.asset, config),
      sectorExposureAfter: validation.enforcement.sectorExposure.value!,
    },
    currentDrawdown: state.currentDrawdown,
    dailyPnlImpact: -size * config.perTradeStopLoss,
    limitsUsed: validation.limitsUsed,
    riskLimitsEnforcement: validation.enforcement,
    config,
    processingTimeMs: clock() - started,
  };
}

/** One open position against the per-position limits and market checks. */
export interface PositionRisk {
  asset: string;
  side: SignalType;
  exposure: number;
  /** What its stop would lose from the mark (exposure × the per-trade stop when no stop is known). */
  openRisk: number;
  sector: string;
  singleAssetExposure: LimitUse;
  volatility: LimitUse;
  liquidity: LimitUse;
}

/** The book as it stands against every limit: what room is left before the next trade. */
export interface PortfolioRiskReport {
  equity: number;
  /** Open exposure as a fraction of equity. */
  heat: number;
  limits: { drawdown: LimitUse; dailyLoss: LimitUse; portfolioRisk: LimitUse };
  positions: PositionRisk[];
  sectors: Array<{ sector: string; assets: string[]; exposure: LimitUse }>;
  /** Each pair of open positions' correlation of daily returns over the lookback (null when not known). */
  correlations: Array<{ assets: [string, string]; correlation: number | null }>;
}

export function portfolioRiskReport(state: PortfolioState, config: RiskConfig, market: MarketConditions = {}): PortfolioRiskReport {
  const equity = state.totalEquity;
  const use = (value: number | null, limit: number, unit: LimitUse['unit'] = 'fraction'): LimitUse =>
    ({ value, limit, utilization: value === null ? null : value / limit, unit });
  const dailyLoss = Math.abs(Math.min(0, state.dailyPnl));
  const positions = state.positions.map((p): PositionRisk => {
    const c = market[p.asset];
    const volatility = c?.dailyVolatility ?? null;
    const liquidity = c?.tradedValue24h ?? null;
    return {
      asset: p.asset, side: p.side ?? 'LONG', exposure: p.exposure, openRisk: openRiskOf(p, config), sector: sectorOf(p.asset, config),
      singleAssetExposure: use(p.exposure / equity, config.maxSingleAssetExposure),
      volatility: use(volatility === null ? null : round12(volatility), config.volatilityThreshold),
      liquidity: { value: liquidity, limit: config.lowLiquidityThreshold, utilization: liquidity === null ? null : config.lowLiquidityThreshold / liquidity, unit: 'usd' },
    };
  });
  const bySector = new Map<string, PositionRisk[]>();
  for (const p of positions) bySector.set(p.sector, [...(bySector.get(p.sector) ?? []), p]);
  const correlations: PortfolioRiskReport['correlations'] = [];
  for (let i = 0; i < positions.length; i++) {
    for (let j = i + 1; j < positions.length; j++) {
      const [a, b] = [market[positions[i].asset], market[positions[j].asset]];
      correlations.push({ assets: [positions[i].asset, positions[j].asset], correlation: a && b ? conditionsCorrelation(a, b) : null });
    }
  }
  return {
    equity,
    heat: positions.reduce((s, p) => s + p.exposure, 0) / equity,
    limits: {
      drawdown: use(state.currentDrawdown, config.maxDrawdown),
      dailyLoss: use(dailyLoss, equity * config.dailyLossLimit, 'usd'),
      portfolioRisk: use(positions.reduce((s, p) => s + p.openRisk, 0) / equity, config.maxPortfolioRisk),
    },
    positions,
    sectors: [...bySector].map(([sector, held]) => ({
      sector, assets: held.map((p) => p.asset), exposure: use(held.reduce((s, p) => s + p.exposure, 0) / equity, config.maxSectorExposure),
    })),
    correlations,
  };
}
