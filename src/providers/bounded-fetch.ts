/**
 * A provider's answers are bounded in size as well as in time: a body is read as it streams and
 * refused once past the bound, so a misbehaving endpoint cannot fill a worker's memory in the 30 s
 * a call may take.
 */

import { ProviderError } from './errors';

/** The most a provider's body may take. The largest real answers: CoinGecko's 90 days of hourly points ~150 kB, FRED's decade of a series ~200 kB. */
export const MAX_RESPONSE_BYTES = 32 * 2 ** 20;

export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`response body over ${maxBytes.toLocaleString('en')} bytes`);
  }
}

/** `fetch` whose response body fails with ResponseTooLargeError once more than `maxBytes` of it arrived. */
export function boundedFetch(maxBytes = MAX_RESPONSE_BYTES): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    let received = 0;
    const bounded = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > maxBytes) controller.error(new ResponseTooLargeError(maxBytes));
        else controller.enqueue(chunk);
      },
    }));
    return new Response(bounded, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The refusal of a body for its size in `err` or the errors it wraps, if there is one. */
export function tooLarge(err: unknown): ResponseTooLargeError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof ResponseTooLargeError) return e;
  return undefined;
}

/** A bounded response's body as text: past the bound it is invalid data; a connection lost while reading, an outage. */
export async function boundedText(response: Response, provider: string, what: string): Promise<string> {
  return response.text().catch((err: unknown) => {
    const refused = tooLarge(err);
    if (refused) throw new ProviderError(provider, 'invalid_data', `${what}: ${refused.message}`);
    throw new ProviderError(provider, 'unavailable', `${what}: network error: ${(err as Error).message}`);
  });
}
