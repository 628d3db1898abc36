import { defineConfig } from 'vitest/config';
import { BUDGET_TESTS } from './packages/core/vitest.config.js';
import { imbotProject } from './vitest.shared.js';

export default defineConfig({
  test: {
    // A passing test's console output (refusals logged on purpose, say) is not shown: what a run
    // prints is the failures and the summary.
    silent: 'passed-only',
    // Most tests wait on loopback HTTP, Redis and timers rather than compute: four workers keep two
    // cores busy and bring the suite from about six and a half minutes to about two.
    maxWorkers: 4,
    projects: [
      'packages/*',
      'examples/*',
      '!examples/starter',
      // Mastra needs Node 22.13; CI runs this example's test on Node 22 by itself (.ci/run).
      '!examples/mastra-agent',
      'conformance',
      // Core's budget tests, once everything else has run (see packages/core/vitest.config.ts).
      imbotProject('core-budget', { root: 'packages/core', include: BUDGET_TESTS, groupOrder: 1 }),
      // The Redis tests once more, against a three-node Redis Cluster they start themselves.
      {
        extends: './packages/redis/vitest.config.ts',
        root: 'packages/redis',
        test: { name: 'redis-cluster', env: { IMBOT_REDIS_CLUSTER: '1' } },
      },
    ],
  },
});
