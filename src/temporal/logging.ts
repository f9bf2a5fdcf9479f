import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { redactSecrets } from '../logger';

/** The SDK is chatty at info (every worker's state): its info shows at the app's debug. */
const TEMPORAL_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE', debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR',
};

/** Expected at every start of a worker that only runs activities (or only workflows): not worth a line. */
const EXPECTED = /^No (workflows|Nexus services|activities) registered/;

/**
 * The Temporal SDK's own log (worker start-up, activity failures with their messages) through the
 * same secret masking as the app's logger: a provider error can quote a URL with its key.
 */
export function installTemporalLogging(appLevel: string, opts: { metricsBindAddress?: string } = {}): void {
  const level: LogLevel = TEMPORAL_LEVELS[appLevel] ?? 'INFO';
  Runtime.install({
    // The runtime's worker metrics, served by its own exporter (a worker process re-serves them on its health port).
    ...(opts.metricsBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
      : {}),
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      if (EXPECTED.test(message)) return;
      const line = meta && Object.keys(meta).length ? `${message} ${JSON.stringify(meta)}` : message;
      process.stderr.write(`${new Date().toISOString()} [temporal ${entryLevel}] ${redactSecrets(line)}\n`);
    }),
  });
}
