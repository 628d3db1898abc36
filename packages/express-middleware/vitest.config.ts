import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@imbot/source'] },
  ssr: { resolve: { conditions: ['@imbot/source'] } },
  test: {
    name: 'express-middleware',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
