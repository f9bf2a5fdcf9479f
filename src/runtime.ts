import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import type { NativeConnection, Worker, WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createApp } from './api/app';
import { KeyRevocations, type Role } from './services/api-keys';
import { type CollectionConfig, loadCollectionConfig } from './config/collection';
import type { Env } from './config/env';
import type { DatabaseHandle } from './db/client';
import { failureFields } from './logger';
import { fromRoot } from './paths';
import { sourcesFromEnv } from './providers';
import { AlertStream } from './services/alert-stream';
import { PriceStream } from './services/price-stream';
import { signalDepsFromConfig } from './services/signal-deps';
import { loadExecutionConfig } from './config/execution';
import { loadRiskConfig } from './config/risk';
import { loadStrategyConfigs, shortestStrategyBar } from './config/strategies';
import { createMarketDataWorkers } from './workers/market-data';
import { createPipelineWorker } from './workers/pipeline';
import { sourceWorkflowBundle } from './workers/workflow-bundle';
import { createTradingWorker } from './workers/trading';
import { createMarketStreamWorker } from './workers/market-stream';
import { createTradingActivities, type TradingDeps } from './activities/trading';
import { loadStreamsConfig } from './config/streams';
import { streamSourceFromEnv } from './providers/streams';
import { createBacktestWorker } from './workers/backtest';
import { backtestProgressSignal } from './workflows/backtest';
import { loadSignalsConfig } from './config/signals';
import { backfillProgressSignal } from './workflows/collection';

/** The worker roles, one per task queue: each has a compose service and a Kubernetes Deployment (deploy/). */
export const WORKER_ROLES = ['market-data', 'market-stream', 'pipeline', 'trading', 'backtest'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

/**
 * One workflow bundle for every worker of the process: the one `npm run build` wrote beside the built
 * CLI, or the sources' (`sourceWorkflowBundle`: bundled once for them, quietly).
 */
async function processWorkflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = fromRoot('dist', 'workflow-bundle.js');
  if (import.meta.url.endsWith('.js') && existsSync(prebuilt)) return { code: readFileSync(prebuilt, 'utf8') };
  return sourceWorkflowBundle();
}

/**
 * Builds the workers of the given roles; activities get the database, the configured sources and a
 * client for progress signals. The trading activities (the saga, protective checks at streamed prices)
 * run on `tradingDb`, a pool that prepares its statements and plans them once (`planOnce`).
 */
export async function buildWorkers(opts: {
  env: Env; roles: WorkerRole[]; connection: NativeConnection; db: DatabaseHandle; tradingDb: DatabaseHandle; client: Client;
}): Promise<Worker[]> {
  const workers: Worker[] = [];
  const workflowBundle = opts.roles.some((r) => r !== 'market-data' && r !== 'market-stream') ? await processWorkflowBundle() : undefined;
  if (opts.roles.includes('market-data')) {
    const sources = sourcesFromEnv(opts.env);
    workers.push(...await createMarketDataWorkers({
      connection: opts.connection,
      namespace: opts.env.TEMPORAL_NAMESPACE,
      deps: {
        db: opts.db.db,
        crypto: sources.crypto,
        macro: sources.macro,
        reportBackfillProgress: (workflowId, progress) => opts.client.workflow.getHandle(workflowId).signal(backfillProgressSignal, progress),
        callLimits: sources.callLimits,
      },
      cryptoCallsPerSecond: sources.cryptoCallsPerSecond,
      macroCallsPerSecond: sources.macroCallsPerSecond,
    }));
  }
  if (opts.roles.includes('pipeline')) {
    workers.push(await createPipelineWorker({
      connection: opts.connection, namespace: opts.env.TEMPORAL_NAMESPACE, signals: signalDepsFromConfig(opts.env, opts.db), workflowBundle,
      collection: loadCollectionConfig(),
    }));
  }
  const execution = loadExecutionConfig();
  const tradingDeps: TradingDeps = {
    db: opts.tradingDb.db, risk: loadRiskConfig(), fillModel: execution.fillModel, portfolioId: execution.portfolioId,
    initialCapital: opts.env.INITIAL_CAPITAL, marketBarMinutes: shortestStrategyBar(loadStrategyConfigs()), streamPriceMaxAgeMs: execution.streamPriceMaxAgeMs,
  };
  if (opts.roles.includes('market-stream') && opts.env.MARKET_STREAM !== 'none') {
    const streams = loadStreamsConfig(execution.symbols);
    // Stops and targets are checked at each streamed price by the trading core's own activity.
    const trading = createTradingActivities(tradingDeps);
    workers.push(await createMarketStreamWorker({
      connection: opts.connection,
      namespace: opts.env.TEMPORAL_NAMESPACE,
      deps: {
        db: opts.db.db,
        source: streamSourceFromEnv(opts.env, { name: opts.env.MARKET_STREAM, symbols: execution.symbols, staleAfterMs: streams.staleAfterMs, simulatedTickMs: streams.simulatedTickMs }),
        settings: streams,
        onPrices: (prices) => trading.checkProtectionAtPrices({ prices }),
      },
    }));
  }
  if (opts.roles.includes('trading')) {
    workers.push(await createTradingWorker({ connection: opts.connection, namespace: opts.env.TEMPORAL_NAMESPACE, workflowBundle, deps: tradingDeps }));
  }
  if (opts.roles.includes('backtest')) {
    workers.push(await createBacktestWorker({
      connection: opts.connection,
      namespace: opts.env.TEMPORAL_NAMESPACE,
      concurrency: opts.env.BACKTESTS_PER_WORKER,
      workflowBundle,
      deps: {
        db: opts.db.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(),
        reportProgress: (workflowId, progress) => opts.client.workflow.getHandle(workflowId).signal(backtestProgressSignal, progress),
      },
    }));
  }
  return workers;
}

export async function startApi(opts: {
  env: Env; db: DatabaseHandle; client: Client; collection: CollectionConfig; apiKeys: Map<string, Role>; logger: Logger; temporalUiUrl?: string;
}): Promise<Server> {
  // A stream's lost connection is an outage it recovers from (it listens again): one line, no stack.
  const streamWarning = (stream: string) => (err: Error, consequence: string) =>
    opts.logger.warn(failureFields(err), `${stream}: ${consequence}`);
  const alertStream = new AlertStream(opts.env.DATABASE_URL, streamWarning('alert stream'));
  const priceStream = new PriceStream(opts.env.DATABASE_URL, streamWarning('price stream'));
  const keyRevocations = new KeyRevocations(opts.env.DATABASE_URL, streamWarning('key revocations'));
  const app = createApp(
    { db: opts.db.db, temporal: opts.client, collection: opts.collection, strategies: loadStrategyConfigs(), alertStream, priceStream, keyRevocations, risk: loadRiskConfig(), execution: loadExecutionConfig(), initialCapital: opts.env.INITIAL_CAPITAL,
      temporalUiUrl: opts.temporalUiUrl ?? opts.env.TEMPORAL_UI_URL },
    {
      apiKeys: opts.apiKeys, logger: opts.logger, metricsKey: opts.env.METRICS_KEY,
      rateLimits: {
        requestsPerMinute: opts.env.RATE_LIMIT_PER_MINUTE, authFailuresPerMinute: opts.env.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
        signalGenerationPerMinute: opts.env.RATE_LIMIT_SIGNAL_GENERATION_PER_MINUTE, streamsPerKey: opts.env.SSE_STREAMS_PER_KEY,
      },
    },
  );
  return new Promise((resolve, reject) => {
    const server = app.listen(opts.env.PORT, opts.env.HOST, () => resolve(server));
    server.on('error', reject);
    server.on('close', () => void Promise.all([alertStream.close(), priceStream.close(), keyRevocations.close()]));
  });
}
