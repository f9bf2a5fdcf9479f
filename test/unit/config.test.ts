import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../src/services/api-keys';
import { loadEnv } from '../../src/config/env';

describe('environment', () => {
  it('has working defaults', () => {
    const env = loadEnv({});
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/mts');
    expect(env.PORT).toBe(3000);
    expect(env.MARKET_DATA_SOURCE).toBe('simulated');
    expect(env.MACRO_DATA_SOURCE).toBe('simulated');
    // The API answers on loopback only unless a deployment says otherwise.
    expect(env.HOST).toBe('127.0.0.1');
    // Two backtests at once per worker process, whatever the machine's cores.
    expect(env.BACKTESTS_PER_WORKER).toBe(2);
    expect(loadEnv({ BACKTESTS_PER_WORKER: '1' }).BACKTESTS_PER_WORKER).toBe(1);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow(/PORT: /);
    expect(() => loadEnv({ MARKET_DATA_SOURCE: 'binance' })).toThrow(/MARKET_DATA_SOURCE: /);
    expect(() => loadEnv({ BACKTESTS_PER_WORKER: '0' })).toThrow(/BACKTESTS_PER_WORKER: /);
    expect(() => loadEnv({ MARKET_DATA_SOURCE: 'coingecko' })).toThrow(/FRED_API_KEY: required when the macro source is fred/);
  });

  it('reads role:key pairs and refuses unknown roles', () => {
    const keys = parseApiKeys('read:reader-key-1,operator:operator-key-1');
    expect(keys.get('reader-key-1')).toBe('read');
    expect(keys.get('operator-key-1')).toBe('operator');
    expect(() => parseApiKeys('root:abcdefghijk')).toThrow(/MTS_API_KEYS/);
  });
});

describe('one risk configuration', () => {
  it('gives every strategy and the aggregate the size hint and protective levels of config/risk.json', async () => {
    const { loadRiskConfig } = await import('../../src/config/risk');
    const { loadStrategyConfigs, parseStrategyConfig } = await import('../../src/config/strategies');
    const { loadSignalsConfig } = await import('../../src/config/signals');
    const risk = { ...loadRiskConfig(), basePositionPercent: 0.03, maxPositionSize: 0.07, perTradeStopLoss: 0.015, riskRewardRatio: 3 };
    const expected = { positionSize: 0.03, maxPositionSize: 0.07, stopLossPct: 0.015, riskRewardRatio: 3 };
    for (const c of loadStrategyConfigs(undefined, risk)) expect(c.risk).toEqual(expected);
    expect(loadSignalsConfig(undefined, risk).aggregation.risk).toEqual(expected);
    // A strategy file may not carry its own: there is one place to change them.
    expect(() => parseStrategyConfig({ name: 'sma_crossover', assets: ['bitcoin'], risk: { stopLossPct: 0.05 } }, 'x.json', risk))
      .toThrow(/^x\.json: risk: sizing, stop distance and reward ratio are set once, in config\/risk\.json/);
  });
});

describe('the stack a running mts dev recorded', () => {
  it('fills in only what the environment leaves unset, and a Temporal port given means another Temporal', async () => {
    const { withStack, withoutPassword } = await import('../../src/config/stack');
    const stack = {
      pid: 1, startedAt: '', apiUrl: 'http://127.0.0.1:3911', temporalAddress: '127.0.0.1:7911', namespace: 'dev', temporalUiUrl: null,
      databaseUrl: 'postgres://u:secret@127.0.0.1:5432/mts_dev', host: '127.0.0.1', port: 3911,
    };
    const filled = loadEnv(withStack({}, stack) as Record<string, string>);
    expect([filled.TEMPORAL_ADDRESS, filled.TEMPORAL_NAMESPACE, filled.DATABASE_URL, filled.PORT]).toEqual(['127.0.0.1:7911', 'dev', stack.databaseUrl, 3911]);
    const explicit = loadEnv(withStack({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/other', TEMPORAL_PORT: '7233' }, stack) as Record<string, string>);
    expect(explicit.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/other');
    expect(explicit.TEMPORAL_ADDRESS).toBeUndefined();
    expect(explicit.TEMPORAL_PORT).toBe(7233);
    expect(withoutPassword(stack.databaseUrl)).toBe('postgres://u:***@127.0.0.1:5432/mts_dev');
  });
});
