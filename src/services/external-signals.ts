import { z } from 'zod';
import { assetName, LIMITS } from './limits';
import type { ExecutionSignal } from '../workflows/types';
import { externalSignalId } from './trading';

/** A signal from elsewhere: the seed's signal alert, or a plain signal with an optional id. */
export const externalSignalSchema = z.object({
  signal_id: z.string().regex(/^[\w.:-]{1,100}$/, 'letters, digits and . _ : - only, at most 100').optional(),
  asset: assetName,
  signal_type: z.enum(['LONG', 'SHORT']),
  price: z.number().positive().max(LIMITS.maxPrice),
  confidence: z.number().min(0).max(1),
  timestamp: z.number().int().min(LIMITS.earliestTime).max(LIMITS.latestTime).optional(),
  strategies: z.array(z.string().max(LIMITS.nameLength)).max(20).optional(),
  position_size: z.number().min(0).max(1).optional(),
  risk_metrics: z.object({ stop_loss: z.number().positive().max(LIMITS.maxPrice), take_profit: z.number().positive().max(LIMITS.maxPrice) }).optional(),
}).strict().refine((s) => s.signal_id !== undefined || s.timestamp !== undefined, {
  message: 'give timestamp (ms) or signal_id, so the same signal posted twice is recognised', path: ['timestamp'],
});

export const VOLATILITY_ALERT_REFUSAL = 'a volatility alert carries no confidence to size a trade with; send a signal or signal alert';

export function isVolatilityAlert(body: unknown): boolean {
  return (body as { alert_type?: unknown } | null)?.alert_type === 'volatility_spike';
}

export function toExecutionSignal(b: z.infer<typeof externalSignalSchema>): ExecutionSignal {
  const base = { asset: b.asset, signalType: b.signal_type, price: b.price, confidence: b.confidence, timestamp: b.timestamp ?? Date.now() };
  return { ...base, signalId: b.signal_id ?? externalSignalId(base) };
}
