import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { dropDatabase, migrateDatabase } from '../../src/db/client';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { MTS_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
  }
}

/** One real Temporal dev server (the CLI binary built by setup) and one fresh Postgres database for the whole run. */
export default async function setup(project: TestProject) {
  const cli = findTemporalCli();
  if (!cli) throw new Error('No Temporal CLI found: run `npm run setup` (it builds one) or set TEMPORAL_CLI_PATH');
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mts');
  base.pathname = `/mts_test_${process.pid}`;
  const databaseUrl = base.toString();
  await dropDatabase(databaseUrl);
  await migrateDatabase(databaseUrl);
  const env = await startTemporal(cli);
  project.provide('temporalAddress', env.address);
  project.provide('databaseUrl', databaseUrl);
  return async () => {
    await env.teardown();
    await dropDatabase(databaseUrl);
  };
}

/** The SDK gives the dev server 5 s to answer; on a busy machine a first start can miss that, so it is tried three times. */
async function startTemporal(cli: string): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: cli }, ip: '127.0.0.1', searchAttributes: MTS_SEARCH_ATTRIBUTES },
      });
    } catch (err) {
      if (attempt === 3 || !/did not start within/.test((err as Error).message)) throw err;
    }
  }
}
