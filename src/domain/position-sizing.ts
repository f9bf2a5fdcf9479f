/**
 * The seed's blended position sizing: fixed percent, Kelly, volatility targeting and risk parity,
 * each a USD size, combined by the configured weights (renormalised over the components that can be
 * computed), scaled by the signal's confidence, then capped at the maximum position size.
 */

/** A strategy's (or an ensemble's pooled) scored signals: how many, how many went its way, and by how much in all. */
export interface ScoredRecord {
  total: number;
  hits: number;
  /** Σ of the winning signals' returns in their direction (fractions, positive). */
  gain: number;
  /** Σ of the losing signals' returns against them (fractions, positive). */
  loss: number;
}

export interface SizingWeights {
  fixedPercent: number;
  kelly: number;
  volatility: number;
  riskParity: number;
}

export interface SizingSettings {
  basePositionPercent: number;
  maxPositionSize: number;
  minPositionSize: number;
  positionSizingWeights: SizingWeights;
  kellyMinScoredSignals: number;
  volatilityTarget: number;
}

export interface SizingInput {
  equity: number;
  confidence: number;
  /** The asset's daily volatility; null when not known. */
  volatility: number | null;
  /** The signal's track record; absent for an external signal. */
  record?: ScoredRecord;
  /** Each open position's exposure (USD) and daily volatility (null when not known). */
  positions: Array<{ exposure: number; volatility: number | null }>;
}

export type SizingComponent = keyof SizingWeights;

export interface PositionSizing {
  /** `fixed_percent` when it was the only component that could be computed, else `blended`. */
  method: 'fixed_percent' | 'blended';
  /** Each component's size in USD before confidence; null when it could not be computed (and why in `notes`). */
  components: Record<SizingComponent, number | null>;
  /** The weights applied: the configured ones renormalised over the computed components. */
  weights: Record<SizingComponent, number>;
  /** Half-Kelly fraction of equity from the record, floored at 0; null without enough scored signals. */
  kellyFraction: number | null;
  /** Σ weight × component × confidence, before the caps. */
  blended: number;
  /** What the size was cut by: the maximum position size, or the minimum (size 0: no trade). */
  limitedBy: 'positionSize' | 'minimumSize' | null;
  size: number;
  notes: string[];
}

/** Kelly fraction p − (1 − p)/b from hit rate p and payoff b (mean win / mean loss); a record with no losses gives p. */
export function kellyFraction(record: ScoredRecord): number {
  const p = record.hits / record.total;
  const losses = record.total - record.hits;
  if (record.hits === 0) return 0;
  if (losses === 0 || record.loss === 0) return p;
  const payoff = record.gain / record.hits / (record.loss / losses);
  return payoff > 0 ? p - (1 - p) / payoff : 0;
}

/** The four components (USD, before confidence; null where not computable) and the half-Kelly fraction. */
interface Components extends Record<SizingComponent, number | null> {
  half: number | null;
}

function componentsOf(input: SizingInput, settings: SizingSettings): Components {
  const { equity, volatility, record } = input;
  const half = !record || record.total < settings.kellyMinScoredSignals ? null : Math.max(0, kellyFraction(record) / 2);
  const known = volatility !== null && volatility > 0;
  let riskParity: number | null = null;
  if (known) {
    // Mean risk contribution (exposure × volatility) of the open positions with a known volatility, at this asset's volatility.
    let contributions = 0;
    let count = 0;
    for (const p of input.positions) {
      if (p.volatility === null || !(p.volatility > 0)) continue;
      contributions += p.exposure * p.volatility;
      count += 1;
    }
    if (count) riskParity = contributions / count / volatility;
  }
  return {
    fixedPercent: equity * settings.basePositionPercent,
    kelly: half === null ? null : equity * half,
    volatility: known ? (equity * settings.basePositionPercent * settings.volatilityTarget) / volatility : null,
    riskParity,
    half,
  };
}

/** Σ of the configured weights of the computed components: what the weights are renormalised by. */
function weightTotal(c: Components, configured: SizingWeights): number {
  let total = 0;
  for (const k in configured) total += c[k as SizingComponent] === null ? 0 : configured[k as SizingComponent];
  return total;
}

/** A component's weight, renormalised over the computed ones. */
const weightOf = (c: Components, configured: SizingWeights, k: SizingComponent, total: number) =>
  c[k] === null || total === 0 ? 0 : configured[k] / total;

/** Σ weight × component × confidence, before the caps. */
function blendOf(c: Components, configured: SizingWeights, confidence: number): number {
  const total = weightTotal(c, configured);
  let blended = 0;
  for (const k in configured) blended += weightOf(c, configured, k as SizingComponent, total) * (c[k as SizingComponent] ?? 0);
  return blended * confidence;
}

/** The blend capped at the maximum position size, and zero under the minimum. */
function capped(blended: number, equity: number, settings: SizingSettings): Pick<PositionSizing, 'size' | 'limitedBy'> {
  const max = equity * settings.maxPositionSize;
  const size = Math.min(blended, max);
  if (size < equity * settings.minPositionSize) return { limitedBy: 'minimumSize', size: 0 };
  return { limitedBy: blended > max ? 'positionSize' : null, size };
}

/** The size alone, as `positionSizing` computes it, without its record: what a backtest needs at every signal. */
export function positionSize(input: SizingInput, settings: SizingSettings): Pick<PositionSizing, 'size' | 'limitedBy'> {
  return capped(blendOf(componentsOf(input, settings), settings.positionSizingWeights, input.confidence), input.equity, settings);
}

export function positionSizing(input: SizingInput, settings: SizingSettings): PositionSizing {
  const c = componentsOf(input, settings);
  const notes: string[] = [];
  if (c.half === null) notes.push(`kelly: ${input.record?.total ?? 0} scored signals, needs ${settings.kellyMinScoredSignals}`);
  if (c.volatility === null) notes.push('volatility and risk parity: the asset\'s daily volatility is not known');
  else if (c.riskParity === null) notes.push('risk parity: no open position with a known volatility');
  const configured = settings.positionSizingWeights;
  const names = Object.keys(configured) as SizingComponent[];
  const total = weightTotal(c, configured);
  const weights = Object.fromEntries(names.map((k) => [k, weightOf(c, configured, k, total)])) as Record<SizingComponent, number>;
  const blended = blendOf(c, configured, input.confidence);
  const computed = names.filter((k) => c[k] !== null);
  const method = computed.length === 1 && computed[0] === 'fixedPercent' ? 'fixed_percent' : 'blended';
  const components = { fixedPercent: c.fixedPercent, kelly: c.kelly, volatility: c.volatility, riskParity: c.riskParity };
  return { method, components, weights, kellyFraction: c.half, blended, ...capped(blended, input.equity, settings), notes };
}
