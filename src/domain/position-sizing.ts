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

export function positionSizing(input: SizingInput, settings: SizingSettings): PositionSizing {
  const { equity, volatility } = input;
  const notes: string[] = [];
  const fixedPercent = equity * settings.basePositionPercent;

  let kelly: number | null = null;
  let half: number | null = null;
  if (!input.record || input.record.total < settings.kellyMinScoredSignals) {
    notes.push(`kelly: ${input.record?.total ?? 0} scored signals, needs ${settings.kellyMinScoredSignals}`);
  } else {
    half = Math.max(0, kellyFraction(input.record) / 2);
    kelly = equity * half;
  }

  const known = volatility !== null && volatility > 0;
  if (!known) notes.push('volatility and risk parity: the asset\'s daily volatility is not known');
  const volatilitySize = known ? (equity * settings.basePositionPercent * settings.volatilityTarget) / volatility : null;

  const contributions = input.positions.filter((p) => p.volatility !== null && p.volatility > 0).map((p) => p.exposure * p.volatility!);
  let riskParity: number | null = null;
  if (known && contributions.length) riskParity = contributions.reduce((s, c) => s + c, 0) / contributions.length / volatility;
  else if (known) notes.push('risk parity: no open position with a known volatility');

  const components: Record<SizingComponent, number | null> = { fixedPercent, kelly, volatility: volatilitySize, riskParity };
  const configured = settings.positionSizingWeights;
  const names = Object.keys(configured) as SizingComponent[];
  const total = names.reduce((s, k) => s + (components[k] === null ? 0 : configured[k]), 0);
  const weights = Object.fromEntries(names.map((k) => [k, components[k] === null || total === 0 ? 0 : configured[k] / total])) as Record<SizingComponent, number>;
  const blended = names.reduce((s, k) => s + weights[k] * (components[k] ?? 0), 0) * input.confidence;

  const max = equity * settings.maxPositionSize;
  let size = Math.min(blended, max);
  let limitedBy: PositionSizing['limitedBy'] = blended > max ? 'positionSize' : null;
  if (size < equity * settings.minPositionSize) {
    size = 0;
    limitedBy = 'minimumSize';
  }
  const computed = names.filter((k) => components[k] !== null);
  const method = computed.length === 1 && computed[0] === 'fixedPercent' ? 'fixed_percent' : 'blended';
  return { method, components, weights, kellyFraction: half, blended, limitedBy, size, notes };
}
