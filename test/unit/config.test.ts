import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../src/api/auth';
import { loadEnv } from '../../src/config/env';

describe('environment', () => {
  it('has working defaults', () => {
    const env = loadEnv({});
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/mts');
    expect(env.PORT).toBe(3000);
    expect(env.MARKET_DATA_SOURCE).toBe('simulated');
    expect(env.MACRO_DATA_SOURCE).toBe('simulated');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow(/PORT: /);
    expect(() => loadEnv({ MARKET_DATA_SOURCE: 'binance' })).toThrow(/MARKET_DATA_SOURCE: /);
    expect(() => loadEnv({ MARKET_DATA_SOURCE: 'coingecko' })).toThrow(/FRED_API_KEY: required when the macro source is fred/);
  });

  it('reads role:key pairs and refuses unknown roles', () => {
    const keys = parseApiKeys('read:reader-key-1,operator:operator-key-1');
    expect(keys.get('reader-key-1')).toBe('read');
    expect(keys.get('operator-key-1')).toBe('operator');
    expect(() => parseApiKeys('root:abcdefghijk')).toThrow(/MTS_API_KEYS/);
  });
});
