import express from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import client from 'prom-client';
import { authenticate, type Role } from './auth';
import type { ApiContext } from './context';
import { errorHandler, notFoundHandler } from './errors';
import { openApiDocument } from './openapi';
import { alertsRouter } from './routes/alerts';
import { backtestsRouter } from './routes/backtests';
import { collectionsRouter } from './routes/collections';
import { healthRouter } from './routes/health';
import { marketDataRouter } from './routes/market-data';
import { runsRouter } from './routes/runs';
import { portfolioRouter } from './routes/portfolio';
import { riskRouter } from './routes/risk';
import { schedulesRouter } from './routes/schedules';
import { signalsRouter } from './routes/signals';

export interface AppOptions {
  apiKeys: Map<string, Role>;
  logger: Logger;
}

export function createApp(ctx: ApiContext, opts: AppOptions): express.Express {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'mts_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry],
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(pinoHttp({ logger: opts.logger, autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' } }));
  app.use((req, res, next) => {
    res.on('finish', () => requests.inc({ method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode }));
    next();
  });
  app.use(express.json({ limit: '1mb' }));

  app.use(healthRouter(ctx));
  const openApi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  const api = express.Router();
  api.use(authenticate(opts.apiKeys));
  api.use('/schedules', schedulesRouter(ctx));
  api.use('/runs', runsRouter(ctx));
  api.use(collectionsRouter(ctx));
  api.use(marketDataRouter(ctx));
  api.use('/alerts', alertsRouter(ctx));
  api.use(signalsRouter(ctx));
  api.use(riskRouter(ctx.risk));
  api.use('/portfolio', portfolioRouter(ctx));
  api.use('/backtests', backtestsRouter(ctx));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler(opts.logger));
  return app;
}
