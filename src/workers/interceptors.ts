import { Worker, type WorkerInterceptors, type WorkerOptions } from '@temporalio/worker';
import { briefQueryError } from '../db/errors';

/**
 * Every MTS worker's interceptors. An activity's failed statement leaves it as its beginning and the
 * reason (`briefQueryError`): drizzle's own error, which quotes every parameter, would otherwise be
 * the failure's message in the run's history and be written whole into the SDK's "Activity failed"
 * line (a batch of candles: thousands of values).
 */
export const workerInterceptors: WorkerInterceptors = {
  activity: [() => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          throw briefQueryError(err);
        }
      },
    },
  })],
};

/** `Worker.create` for every MTS worker: with `workerInterceptors`. */
export const createWorker = (options: WorkerOptions): Promise<Worker> => Worker.create({ ...options, interceptors: workerInterceptors });
