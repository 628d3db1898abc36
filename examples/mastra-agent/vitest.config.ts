import { mergeConfig } from 'vitest/config';
import { imbotProject } from '../../vitest.shared.js';

// Not one of the root's projects: Mastra needs Node 22.13, and the root suite runs on Node 20 too.
export default mergeConfig(imbotProject('mastra-agent'), { test: { testTimeout: 20_000 } });
