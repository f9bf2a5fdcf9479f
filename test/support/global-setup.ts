import type { TestProject } from 'vitest/node';
import { dropDatabase, migrateDatabase } from '../../src/db/client';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { startTemporalServer } from './temporal-server';

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
  const env = await startTemporalServer(cli);
  project.provide('temporalAddress', env.address);
  project.provide('databaseUrl', databaseUrl);
  return async () => {
    await env.teardown();
    await dropDatabase(databaseUrl);
  };
}

