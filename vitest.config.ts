import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'examples/*',
      '!examples/starter',
      // Mastra needs Node 22.13; CI runs this example's test on Node 22 by itself (.ci/run).
      '!examples/mastra-agent',
      'conformance',
      // The Redis tests once more, against a three-node Redis Cluster they start themselves.
      {
        extends: './packages/redis/vitest.config.ts',
        root: 'packages/redis',
        test: { name: 'redis-cluster', env: { IMBOT_REDIS_CLUSTER: '1' } },
      },
    ],
  },
});
