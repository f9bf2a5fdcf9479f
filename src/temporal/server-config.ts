/**
 * Dynamic configuration MTS runs its Temporal server with. The dev server (`npm start`, tests and
 * benchmarks) takes it as flags; docker-compose.yml mounts deploy/temporal/dynamic-config.yaml with
 * the same values (test/unit/deployment.test.ts holds the two equal); a Temporal run by its Helm chart
 * takes them as the chart's `server.dynamicConfig`.
 *
 * - `history.transferProcessorMaxPollRPS`: how often a history shard reads its new transfer tasks
 *   (the hand-over of every workflow and activity task to matching). The server's default, 20 a
 *   second, made each hand-over wait ~40 ms on a one-shard dev server: five steps of an empty
 *   workflow took ~550 ms, ~100 ms without the limit (BENCHMARKS.md, the saga's single signal).
 * - `system.enableActivityEagerExecution`: a workflow task that schedules an activity on its own task
 *   queue gets the activity back in its reply when the worker has a free slot, instead of through a
 *   poll: the saga's steps run on the worker that decided them, one hand-over fewer each.
 * - `matching.numTaskqueueReadPartitions` / `WritePartitions`: one partition per task queue, not
 *   four. A task written to a partition no worker was polling waited there until matching forwarded
 *   it or read its backlog: in a profiled warm sweep the one worker sat idle 150–820 ms at a time,
 *   ~40 % of the sweep, and two workers' warm sweeps took 3.4–3.9 s, 2.5–3.0 s with one partition
 *   (BENCHMARKS.md). Partitions spread a task queue past what one matching host takes (thousands
 *   of tasks a second); MTS's queues carry tens.
 */
export const TEMPORAL_DYNAMIC_CONFIG: Record<string, number | boolean> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/** `TEMPORAL_DYNAMIC_CONFIG` as `temporal server start-dev` flags (values are JSON). */
export const dynamicConfigFlags = (): string[] =>
  Object.entries(TEMPORAL_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
