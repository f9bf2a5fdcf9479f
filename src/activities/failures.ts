import { ApplicationFailure } from '@temporalio/common';
import { InvalidMarketDataError } from '../domain/candles';
import { ProviderError } from '../providers/errors';

/** Maps a failure to Temporal's terms: 429 waits Retry-After, outages back off, bad data and other 4xx stop at once. */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof ProviderError) {
    if (err.kind === 'rate_limited') {
      return ApplicationFailure.create({ message: err.message, type: 'ProviderRateLimited', nextRetryDelay: err.retryAfterMs });
    }
    if (err.kind === 'unavailable') return ApplicationFailure.retryable(err.message, 'ProviderUnavailable');
    return ApplicationFailure.nonRetryable(err.message, err.kind === 'invalid_data' ? 'InvalidMarketData' : 'ProviderRejected');
  }
  if (err instanceof InvalidMarketDataError) return ApplicationFailure.nonRetryable(err.message, 'InvalidMarketData');
  return err instanceof Error ? err : new Error(String(err));
}
