import { z } from 'zod';
import { boundedFetch, boundedText } from './bounded-fetch';
import { errorForStatus, ProviderError } from './errors';
import type { MacroDataSource } from './types';

export interface FredOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs?: number;
  /** The most a response body may take (MAX_RESPONSE_BYTES unless a test sets it). */
  maxResponseBytes?: number;
}

const observationsSchema = z.object({
  observations: z.array(z.object({ date: z.string(), value: z.string() })),
});

/** FRED's /fred/series/observations (JSON). Values stay text: "." marks a missing observation. */
export function fredSource(opts: FredOptions): MacroDataSource {
  const fetchBounded = boundedFetch(opts.maxResponseBytes);
  return {
    name: 'fred',
    async fetchObservations(indicator, fromDate, toDate) {
      const url = new URL('/fred/series/observations', opts.baseURL);
      url.search = new URLSearchParams({
        series_id: indicator, api_key: opts.apiKey, file_type: 'json', observation_start: fromDate, observation_end: toDate,
      }).toString();
      let response: Response;
      try {
        response = await fetchBounded(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
      } catch (err) {
        throw new ProviderError('fred', 'unavailable', `${indicator}: network error: ${(err as Error).message}`);
      }
      const text = await boundedText(response, 'fred', indicator);
      if (!response.ok) {
        throw errorForStatus('fred', response.status, `${indicator}: ${fredMessage(text)}`, response.headers.get('retry-after'));
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new ProviderError('fred', 'invalid_data', `${indicator}: response body is not valid JSON (${(err as Error).message})`);
      }
      const parsed = observationsSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ProviderError('fred', 'invalid_data', `${indicator}: field ${issue.path.join('.')}: ${issue.message}`);
      }
      return { observations: parsed.data.observations, calls: 1 };
    },
  };
}

/** FRED errors arrive as {"error_code": 400, "error_message": "..."}; fall back to the raw text. */
function fredMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error_message?: string };
    if (body.error_message) return body.error_message;
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 200);
}
