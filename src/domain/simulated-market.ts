import { DAY_MS, HOUR_MS, isoDate, MINUTE_MS, type Candle, type MacroObservation } from './types';

/**
 * A deterministic synthetic market. Every value is a pure function of (seed, asset, time), so the
 * candle for a bar is the same whether it is collected live or backfilled a year later, and any
 * time can be evaluated without simulating from an origin.
 *
 * Log prices are sums of value-noise octaves (5 min … 256 days, amplitude ∝ √scale, so changes
 * scale like a random walk). Coins load on one market factor (correlation) plus their own noise.
 * Short octaves are scaled by a slowly varying volatility regime (clustering). Market-wide jumps
 * arrive about once in twelve days and decay over days. The VIX-like index rises as the market
 * falls over the past five days and reverts as that window moves on.
 */

const FIVE_MIN = 5 * MINUTE_MS;
const OCTAVES = [FIVE_MIN, HOUR_MS, 6 * HOUR_MS, DAY_MS, 4 * DAY_MS, 16 * DAY_MS, 64 * DAY_MS, 256 * DAY_MS];
// Calibrated to Binance's BTCUSDT daily closes 2018–2025 (shared/data/market): bitcoin's 30-day volatility
// has a median near 3 % and is above 5 % one day in ten, as it is here.
const DAILY_VOL = 0.023;
const OCTAVE_AMPLITUDES = OCTAVES.map((s) => DAILY_VOL * 0.6 * Math.sqrt(s / DAY_MS));
const CLUSTERED_UP_TO = 4 * DAY_MS;
const JUMP_SLOT = DAY_MS;
const JUMP_LOOKBACK_SLOTS = 30;
const JUMP_PROBABILITY = 0.08;
const JUMP_DECAY = 5 * DAY_MS;

interface AssetProfile {
  basePrice: number;
  beta: number;
  idiosyncratic: number;
  dailyVolumeUsd: number;
}

const PROFILES: Record<string, AssetProfile> = {
  bitcoin: { basePrice: 60_000, beta: 1, idiosyncratic: 0.3, dailyVolumeUsd: 30e9 },
  ethereum: { basePrice: 3_000, beta: 1.2, idiosyncratic: 0.5, dailyVolumeUsd: 15e9 },
  tether: { basePrice: 1, beta: 0, idiosyncratic: 0.01, dailyVolumeUsd: 50e9 },
  solana: { basePrice: 150, beta: 1.4, idiosyncratic: 0.8, dailyVolumeUsd: 3e9 },
  ripple: { basePrice: 0.6, beta: 1.1, idiosyncratic: 0.8, dailyVolumeUsd: 1.5e9 },
  bittensor: { basePrice: 400, beta: 1.5, idiosyncratic: 1, dailyVolumeUsd: 1e8 },
  'fetch-ai': { basePrice: 1.5, beta: 1.5, idiosyncratic: 1, dailyVolumeUsd: 2e8 },
  singularitynet: { basePrice: 0.8, beta: 1.5, idiosyncratic: 1, dailyVolumeUsd: 1e8 },
  'render-token': { basePrice: 7, beta: 1.5, idiosyncratic: 1, dailyVolumeUsd: 2e8 },
  'ocean-protocol': { basePrice: 0.7, beta: 1.5, idiosyncratic: 1, dailyVolumeUsd: 5e7 },
};

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit integer mix of three values, mapped to (0, 1). */
function uniform(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c | 0, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return ((h >>> 0) + 0.5) / 4294967296;
}

function gaussian(a: number, b: number, c: number): number {
  const u1 = uniform(a, b, c * 2);
  const u2 = uniform(a, b ^ 0x5bd1e995, c * 2 + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export class SimulatedMarket {
  private readonly seed: number;
  private readonly marketStream: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.marketStream = hashString('market');
  }

  /** Smoothly interpolated Gaussian noise with unit variance at the knots, knots `scale` apart. */
  private noise(stream: number, t: number, scale: number): number {
    const x = t / scale;
    const i = Math.floor(x);
    const f = x - i;
    const w = f * f * (3 - 2 * f);
    const a = gaussian(this.seed, stream, i);
    const b = gaussian(this.seed, stream, i + 1);
    return a + (b - a) * w;
  }

  private volatilityRegime(t: number): number {
    return Math.exp(0.45 * this.noise(hashString('vol-slow'), t, 20 * DAY_MS) + 0.2 * this.noise(hashString('vol-fast'), t, 2 * DAY_MS));
  }

  private octaveSum(stream: number, t: number, regime: number): number {
    let sum = 0;
    for (let k = 0; k < OCTAVES.length; k++) {
      const amp = OCTAVE_AMPLITUDES[k] * (OCTAVES[k] <= CLUSTERED_UP_TO ? regime : 1);
      sum += amp * this.noise(stream + k * 7919, t, OCTAVES[k]);
    }
    return sum;
  }

  private jumps(t: number): number {
    let sum = 0;
    const slot = Math.floor(t / JUMP_SLOT);
    const stream = hashString('jumps');
    for (let j = slot - JUMP_LOOKBACK_SLOTS; j <= slot; j++) {
      if (uniform(this.seed, stream, j) >= JUMP_PROBABILITY) continue;
      const at = j * JUMP_SLOT + uniform(this.seed, stream + 1, j) * JUMP_SLOT;
      if (at > t) continue;
      const size = -0.02 + 0.07 * gaussian(this.seed, stream + 2, j);
      sum += size * Math.exp(-(t - at) / JUMP_DECAY);
    }
    return sum;
  }

  /** The common crypto factor (log scale) at time t. */
  marketFactor(t: number): number {
    return this.octaveSum(this.marketStream, t, this.volatilityRegime(t)) + this.jumps(t);
  }

  private profile(asset: string): AssetProfile {
    const known = PROFILES[asset];
    if (known) return known;
    const h = hashString(asset);
    return { basePrice: 1 + (h % 10_000) / 100, beta: 1.3, idiosyncratic: 1, dailyVolumeUsd: 1e8 };
  }

  /** Price of a coin at time t. */
  price(asset: string, t: number): number {
    const p = this.profile(asset);
    const regime = this.volatilityRegime(t);
    const market = this.octaveSum(this.marketStream, t, regime) + this.jumps(t);
    const own = this.octaveSum(hashString(`asset:${asset}`), t, regime);
    return p.basePrice * Math.exp(p.beta * market + p.idiosyncratic * own);
  }

  /** The bar opening at `start` (on the interval grid), from 5-minute sub-steps. */
  candle(asset: string, start: number, intervalMs: number): Candle {
    const step = Math.min(FIVE_MIN, intervalMs);
    const open = this.price(asset, start);
    let high = open;
    let low = open;
    let close = open;
    for (let t = start + step; t <= start + intervalMs; t += step) {
      close = this.price(asset, t);
      if (close > high) high = close;
      if (close < low) low = close;
    }
    const p = this.profile(asset);
    const activity = this.volatilityRegime(start) * Math.exp(0.3 * this.noise(hashString(`volume:${asset}`), start, HOUR_MS));
    const volume = (p.dailyVolumeUsd / p.basePrice) * (intervalMs / DAY_MS) * activity;
    return { timestamp: start, open, high, low, close, volume };
  }

  /** Complete bars whose open time lies in [from, to). */
  candles(asset: string, from: number, to: number, intervalMs: number): Candle[] {
    const out: Candle[] = [];
    for (let t = Math.ceil(from / intervalMs) * intervalMs; t < to; t += intervalMs) out.push(this.candle(asset, t, intervalMs));
    return out;
  }

  /** VIX-like index: rises as the market falls over five days, mean-reverting, mostly 12–40. */
  vix(t: number): number {
    const momentum = this.marketFactor(t) - this.marketFactor(t - 5 * DAY_MS);
    const level = 17 * Math.exp(0.2 * this.noise(hashString('vix'), t, 20 * DAY_MS) - 5 * Math.min(momentum, 0) - 1.5 * Math.max(momentum, 0));
    return Math.min(85, Math.max(9, level));
  }

  /** Value of a macro series on a date (YYYY-MM-DD), or undefined on days it is not published. */
  macroValue(indicator: string, date: string): number | undefined {
    const t = Date.parse(`${date}T21:00:00Z`);
    const weekday = new Date(t).getUTCDay();
    if (indicator !== 'DFF' && (weekday === 0 || weekday === 6)) return undefined;
    const slow = (name: string, scale = 60 * DAY_MS) => this.noise(hashString(`macro:${name}`), t, scale);
    const dff = 4.33 + 0.5 * slow('DFF');
    const round = (v: number, dp: number) => Math.round(v * 10 ** dp) / 10 ** dp;
    switch (indicator) {
      case 'VIXCLS': return round(this.vix(t), 2);
      case 'DFF': return round(dff, 2);
      case 'SOFR': return round(dff + 0.02, 2);
      case 'DGS10': return round(4.2 + 0.4 * slow('DGS10'), 2);
      case 'DTWEXBGS': return round(122 + 3 * slow('DTWEXBGS'), 4);
      case 'DEXUSEU': return round(1.08 + 0.04 * slow('DEXUSEU'), 4);
      case 'DEXCHUS': return round(7.2 + 0.1 * slow('DEXCHUS'), 4);
      case 'BAMLH0A0HYM2': return round(3.2 + 0.08 * (this.vix(t) - 17), 2);
      case 'RRPONTSYD': return round(Math.max(0, 400 + 200 * slow('RRPONTSYD')), 3);
      default: return round(100 * Math.exp(0.1 * slow(indicator)), 4);
    }
  }

  /** Observations for the dates in [fromDate, toDate], inclusive. */
  macroSeries(indicator: string, fromDate: string, toDate: string): MacroObservation[] {
    const out: MacroObservation[] = [];
    for (let t = Date.parse(`${fromDate}T00:00:00Z`); t <= Date.parse(`${toDate}T00:00:00Z`); t += DAY_MS) {
      const date = isoDate(t);
      const value = this.macroValue(indicator, date);
      if (value !== undefined) out.push({ date, value, isForwardFilled: false, isInterpolated: false });
    }
    return out;
  }
}
