import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { workerInterceptors } from '../../src/workers/interceptors';
import { testDatabase } from '../support/db';

const handle = testDatabase();
afterAll(() => handle.close());

it('fails an activity whose statement failed with the statement\'s beginning and the reason, never its parameters', async () => {
  // What the SDK logs of the failure, kept here rather than printed.
  const logged: LogEntry[] = [];
  const env = new MockActivityEnvironment(undefined, { interceptors: workerInterceptors.activity, logger: new DefaultLogger('WARN', (e) => logged.push(e)) });
  const failing = () => handle.db.execute(sql`select * from no_such_table where id = ${'param-k-1'}`);
  const err = (await env.run(failing).then(() => undefined, (e: unknown) => e)) as Error & { cause: Error };
  expect(err.message).toBe('failed statement: select * from no_such_table where id = $1');
  expect(err.cause.message).toBe('relation "no_such_table" does not exist');
  expect(`${JSON.stringify(err)} ${err.stack}`).not.toContain('param-k-1');
  const failure = logged.find((e) => e.message === 'Activity failed');
  expect(failure?.meta?.error).toBe(err);
  expect(JSON.stringify(failure?.meta)).not.toContain('param-k-1');
});
