import { TestWorkflowEnvironment } from '@temporalio/testing';
import { MTS_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { dynamicConfigFlags } from '../../src/temporal/server-config';

/**
 * A Temporal dev server from the CLI binary, for the tests and the benchmarks, with its own log
 * off. The SDK gives it 5 s to answer; on a busy machine a start can miss that, so it is tried up
 * to five times.
 */
export async function startTemporalServer(cli: string): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: cli }, ip: '127.0.0.1', searchAttributes: MTS_SEARCH_ATTRIBUTES,
          // Tests kill workers on purpose; the server's complaints about their tasks are expected, not news.
          log: { format: 'pretty', level: 'never' },
          // The server as MTS runs it (src/temporal/server-config.ts).
          extraArgs: dynamicConfigFlags(),
        },
      });
    } catch (err) {
      if (attempt === 5 || !/did not start within/.test((err as Error).message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
