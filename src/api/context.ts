import type { Client } from '@temporalio/client';
import type { CollectionConfig } from '../config/collection';
import type { Database } from '../db/client';
import type { RiskConfig } from '../domain/risk';
import type { StrategyConfig } from '../domain/strategies/framework';
import type { AlertStream } from '../services/alert-stream';

/** What the routers need; built once by the process that serves the API. */
export interface ApiContext {
  db: Database;
  temporal: Client;
  collection: CollectionConfig;
  strategies: StrategyConfig[];
  alertStream: AlertStream;
  risk: RiskConfig;
  /** The paper portfolio the trading worker books into (config/execution.json). */
  portfolioId: string;
  /** Alert asset → trading symbol, for trade listings. */
  symbols: Record<string, string>;
}
