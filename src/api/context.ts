import type { Client } from '@temporalio/client';
import type { CollectionConfig } from '../config/collection';
import type { ExecutionConfig } from '../config/execution';
import type { Database } from '../db/client';
import type { RiskConfig } from '../domain/risk';
import type { StrategyConfig } from '../domain/strategies/framework';
import type { AlertStream } from '../services/alert-stream';
import type { KeyRevocations } from '../services/api-keys';
import type { PriceStream } from '../services/price-stream';

/** What the routers need; built once by the process that serves the API. */
export interface ApiContext {
  db: Database;
  temporal: Client;
  collection: CollectionConfig;
  strategies: StrategyConfig[];
  alertStream: AlertStream;
  /** Streamed prices as they are written (MARKET_STREAM). */
  priceStream: PriceStream;
  /** Keys as they are revoked: the API forgets each at once. */
  keyRevocations: KeyRevocations;
  risk: RiskConfig;
  /** config/execution.json: the paper portfolio's id, symbols, and the fill model backtests default to. */
  execution: ExecutionConfig;
  /** The Temporal Web UI, for links to a run (TEMPORAL_UI_URL, or the dev server's); absent when not known. */
  temporalUiUrl?: string;
  /** The paper portfolio's starting cash (INITIAL_CAPITAL): what it is before its first trade. */
  initialCapital: number;
}
