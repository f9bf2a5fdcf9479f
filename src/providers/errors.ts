/**
 * How a provider call failed, in the terms a retry policy needs. Activities turn these into
 * Temporal failures: retryable ones back off (or wait `retryAfterMs`), the rest fail at once.
 */
export type ProviderFailureKind = 'rate_limited' | 'unavailable' | 'rejected' | 'invalid_data';

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderFailureKind,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${provider}: ${message}`);
  }

  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Classifies an HTTP status: 429 is rate limiting, 5xx and 408 are passing faults, other 4xx are final. */
export function errorForStatus(provider: string, status: number, detail: string, retryAfter?: string | null): ProviderError {
  if (status === 429) return new ProviderError(provider, 'rate_limited', `HTTP 429 rate limited: ${detail}`, parseRetryAfter(retryAfter));
  if (status >= 500 || status === 408) return new ProviderError(provider, 'unavailable', `HTTP ${status}: ${detail}`);
  return new ProviderError(provider, 'rejected', `HTTP ${status}: ${detail}`);
}
