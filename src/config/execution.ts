import { z } from 'zod';
import type { FillModel } from '../domain/fills';
import { parseConfig, readJsonFile } from './files';
import { fromRoot } from '../paths';

const executionSchema = z.object({
  portfolioId: z.string().regex(/^[\w-]+$/),
  fillModel: z.object({
    fixedSlippageBps: z.number().min(0).max(1000),
    volatilitySlippageFactor: z.number().min(0).max(10),
    takerFeeBps: z.number().min(0).max(1000),
  }).strict(),
  snapshotIntervalMinutes: z.number().int().min(1),
  streamPriceMaxAgeMs: z.number().int().min(0).max(3_600_000),
  symbols: z.record(z.string(), z.string().regex(/^[A-Z0-9]+$/, 'exchange symbols are upper-case letters and digits')),
}).strict();

export interface ExecutionConfig {
  portfolioId: string;
  fillModel: FillModel;
  /** How often the Schedule marks the portfolio for the equity curve. */
  snapshotIntervalMinutes: number;
  /** A streamed price at most this old (ms) is a paper fill's reference price; older, the newest bar's close is. */
  streamPriceMaxAgeMs: number;
  /** Alert asset → trading symbol (bitcoin → BTCUSDT), shown on trades. */
  symbols: Record<string, string>;
}

export const defaultExecutionConfigPath = fromRoot('config', 'execution.json');

export function loadExecutionConfig(path = defaultExecutionConfigPath): ExecutionConfig {
  return parseConfig(executionSchema, readJsonFile(path), path);
}
