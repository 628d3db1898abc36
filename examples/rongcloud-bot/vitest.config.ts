import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@imbot/source'] },
  ssr: { resolve: { conditions: ['@imbot/source'] } },
  test: {
    name: 'rongcloud-bot',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
