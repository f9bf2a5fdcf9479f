import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FillModel } from '../domain/fills';
import { parseConfig, readJsonFile } from './files';

const executionSchema = z.object({
  portfolioId: z.string().regex(/^[\w-]+$/),
  fillModel: z.object({
    fixedSlippageBps: z.number().min(0).max(1000),
    volatilitySlippageFactor: z.number().min(0).max(10),
    takerFeeBps: z.number().min(0).max(1000),
  }).strict(),
}).strict();

export interface ExecutionConfig {
  portfolioId: string;
  fillModel: FillModel;
}

export const defaultExecutionConfigPath = fileURLToPath(new URL('../../config/execution.json', import.meta.url));

export function loadExecutionConfig(path = defaultExecutionConfigPath): ExecutionConfig {
  return parseConfig(executionSchema, readJsonFile(path), path);
}
