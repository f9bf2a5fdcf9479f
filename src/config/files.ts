import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** "field.path: problem; …" — how every config and input error names what is wrong. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `${[prefix, ...i.path].filter((p) => p !== '').join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates `raw` against `schema`; a failure throws naming where it came from and each bad field. */
export function parseConfig<T extends z.ZodType>(schema: T, raw: unknown, origin: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`${origin}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
