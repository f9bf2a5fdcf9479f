import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromRoot } from '../paths';
import express, { type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import client from 'prom-client';
import { processMetrics } from '../metrics';
import { insertAudit } from '../db/api-keys';
import { KeyVerifier, type Role } from '../services/api-keys';
import { allow, bearerToken, identify, requireKey } from './auth';
import type { ApiContext } from './context';
import { errorHandler, HttpError, notFoundHandler } from './errors';
import { openApiDocument } from './openapi';
import { alertsRouter } from './routes/alerts';
import { pricesRouter } from './routes/prices';
import { auditRouter } from './routes/audit';
import { backtestsRouter } from './routes/backtests';
import { collectionsRouter } from './routes/collections';
import { healthRouter } from './routes/health';
import { marketDataRouter } from './routes/market-data';
import { runsRouter } from './routes/runs';
import { portfolioRouter } from './routes/portfolio';
import { riskRouter } from './routes/risk';
import { schedulesRouter } from './routes/schedules';
import { signalsRouter } from './routes/signals';

/** Per-minute request budgets; every one is configurable (see Environment in the README). */
export interface RateLimits {
  /** Requests per key (or per address without a key). */
  requestsPerMinute: number;
  /** Requests refused with 401 per address: guessing keys is slow. */
  authFailuresPerMinute: number;
  /** Signal-generation requests per key (the seed's 10 a minute). */
  signalGenerationPerMinute: number;
  /** Open SSE streams per key. */
  streamsPerKey: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { requestsPerMinute: 600, authFailuresPerMinute: 30, signalGenerationPerMinute: 10, streamsPerKey: 10 };

export interface AppOptions {
  /** MTS_API_KEYS (role:key pairs); keys made with `mts keys create` are looked up in Postgres too. */
  apiKeys: Map<string, Role>;
  logger: Logger;
  rateLimits?: Partial<RateLimits>;
  /** When set, /metrics needs `Authorization: Bearer <this>` (Prometheus' bearer_token). */
  metricsKey?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** SHA-256 (hex) of the raw body, for the audit log. */
    bodyDigest?: string;
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A per-minute limiter answering 429 in the API's error format, with Retry-After. */
function limiter(opts: { limit: number; what: string; key: (req: express.Request) => string; skip?: (req: express.Request) => Promise<boolean> }): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: opts.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: opts.key,
    ...(opts.skip ? { skip: opts.skip } : {}),
    handler: (req, res) => {
      const reset = (req as express.Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.set('retry-after', String(seconds));
      res.status(429).json({ error: { code: 'rate_limited', message: `more than ${opts.limit} ${opts.what} a minute; retry in ${seconds} s`, details: { limit: opts.limit, retryAfterSeconds: seconds } } });
    },
  });
}

/** The limiter's key: a digest of the bearer token (never the token), else the address. */
function callerKey(req: express.Request): string {
  const token = bearerToken(req.get('authorization'));
  return token ? `key:${sha256(token)}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
}

export function createApp(ctx: ApiContext, opts: AppOptions): express.Express {
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  // This app's HTTP metrics; /metrics serves them with the process's (src/metrics.ts).
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: 'mts_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'api_request_duration_seconds', help: 'API request duration by method, route and status', labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const verifier = new KeyVerifier(opts.apiKeys, ctx.db);
  ctx.keyRevocations.subscribe((id) => verifier.forget(id)).catch((err: unknown) => {
    opts.logger.warn({ err }, 'not listening for key revocations: a revoked key is refused within 30 s');
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(pinoHttp({ logger: opts.logger, autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' } }));
  app.use((req, res, next) => {
    const stop = duration.startTimer();
    res.on('finish', () => {
      // The route as declared (with its router's mount point), so ids in paths do not explode the label set.
      const labels = { method: req.method, route: req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched', status: res.statusCode };
      requests.inc(labels);
      stop(labels);
    });
    next();
  });
  app.use(express.json({ limit: '1mb', verify: (req, _res, buf) => { (req as express.Request).bodyDigest = sha256(buf); } }));

  app.use(healthRouter(ctx));
  const openApi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', async (req, res) => {
    if (opts.metricsKey && bearerToken(req.get('authorization')) !== opts.metricsKey) {
      throw new HttpError(401, 'unauthorized', 'GET /metrics needs the metrics key (METRICS_KEY) as a bearer token');
    }
    res.type(registry.contentType).send(`${await registry.metrics()}\n${await processMetrics.metrics()}`);
  });

  const api = express.Router();
  api.use(identify(verifier));
  // Guessing keys is slow: requests without a valid key are limited per address; valid keys are not held up by them.
  api.use(limiter({
    limit: limits.authFailuresPerMinute, what: 'requests with a missing or unknown key', key: (req) => `ip:${ipKeyGenerator(req.ip ?? '')}`,
    skip: async (req) => req.identity !== undefined,
  }));
  api.use(limiter({ limit: limits.requestsPerMinute, what: 'requests', key: callerKey }));
  api.use(requireKey);
  // Every mutating call is audited once it has been answered, whatever the answer.
  api.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The path as called, without the query: Express rewrites req.baseUrl and req.path while routing.
      const route = req.originalUrl.split('?')[0].slice(0, 500);
      res.on('finish', () => {
        const identity = req.identity!;
        insertAudit(ctx.db, {
          keyName: identity.name, role: identity.role, method: req.method, route,
          bodyDigest: req.bodyDigest ?? null, status: res.statusCode,
        }).catch((err: unknown) => opts.logger.error({ err }, 'audit log write failed'));
      });
    }
    next();
  });
  /** Who the key is: the dashboard shows an operator's buttons only to a key that may press them. */
  api.get('/me', (req, res) => { res.json({ name: req.identity!.name, role: req.identity!.role }); });
  api.use('/signals/generate', limiter({ limit: limits.signalGenerationPerMinute, what: 'signal-generation requests', key: callerKey }));
  api.use('/schedules', schedulesRouter(ctx));
  api.use('/runs', runsRouter(ctx));
  api.use(collectionsRouter(ctx));
  api.use(marketDataRouter(ctx));
  api.use('/alerts', alertsRouter(ctx, limits.streamsPerKey));
  api.use('/prices', pricesRouter(ctx, limits.streamsPerKey));
  api.use(signalsRouter(ctx));
  api.use(riskRouter(ctx.risk));
  api.use('/portfolio', portfolioRouter(ctx));
  api.use('/backtests', backtestsRouter(ctx));
  api.use('/audit', allow(), auditRouter(ctx));
  app.use('/api/v1', api);

  // The dashboard at / (built into dist/web by setup): static files only; it reads /api/v1 with the user's key.
  const dashboard = fromRoot('dist', 'web');
  app.get('/', (_req, res, next) => {
    if (existsSync(join(dashboard, 'index.html'))) return next();
    res.status(503).type('text').send('The dashboard is not built: run `npm run setup` (or `npm run build`), then reload.');
  });
  app.use(express.static(dashboard, { index: 'index.html', fallthrough: true, maxAge: 0 }));

  app.use(notFoundHandler);
  app.use(errorHandler(opts.logger));
  const refresh = setInterval(() => void verifier.refresh().catch(() => undefined), 30_000);
  refresh.unref();
  return app;
}
