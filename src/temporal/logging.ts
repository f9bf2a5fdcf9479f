import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { redactSecrets } from '../logger';

const TEMPORAL_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR',
};

/**
 * The Temporal SDK's own log (worker start-up, activity failures with their messages) through the
 * same secret masking as the app's logger: a provider error can quote a URL with its key.
 */
export function installTemporalLogging(appLevel: string): void {
  const level: LogLevel = TEMPORAL_LEVELS[appLevel] ?? 'INFO';
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      const line = meta && Object.keys(meta).length ? `${message} ${JSON.stringify(meta)}` : message;
      process.stderr.write(`${new Date().toISOString()} [temporal ${entryLevel}] ${redactSecrets(line)}\n`);
    }),
  });
}
