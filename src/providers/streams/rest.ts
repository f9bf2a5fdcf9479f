import { z } from 'zod';
import { boundedFetch, boundedText } from '../bounded-fetch';
import { errorForStatus, parseRetryAfter, ProviderError } from '../errors';

const fetchBounded = boundedFetch();

/** A price or quantity as exchanges send them: a decimal string. */
export const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal string').transform(Number);
export const positiveDecimal = decimal.refine((x) => x > 0, 'must be positive');

/**
 * GETs an exchange's public REST endpoint. 429, and Binance's 418 (an IP banned for ignoring 429s),
 * are rate limiting with their Retry-After; Bybit answers an IP over its limit with 403.
 */
export async function getJson(provider: string, url: URL, opts: { timeoutMs: number; rateLimitStatuses?: number[] }): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchBounded(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
  } catch (err) {
    throw new ProviderError(provider, 'unavailable', `${url.pathname}: ${(err as Error).message}`);
  }
  const text = await boundedText(res, provider, url.pathname);
  if (!res.ok) {
    const detail = `${url.pathname}: ${text.slice(0, 200)}`;
    if ((opts.rateLimitStatuses ?? []).includes(res.status)) {
      throw new ProviderError(provider, 'rate_limited', `HTTP ${res.status} rate limited: ${detail}`, parseRetryAfter(res.headers.get('retry-after')));
    }
    throw errorForStatus(provider, res.status, detail, res.headers.get('retry-after'));
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError(provider, 'invalid_data', `${url.pathname}: response body is not JSON`);
  }
}

/** The first issue of a failed parse, as "field: problem". */
export const firstIssue = (error: z.ZodError) => {
  const issue = error.issues[0];
  return `${issue.path.join('.') || '(body)'}: ${issue.message}`;
};
