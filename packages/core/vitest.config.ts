import { imbotProject } from '../../vitest.shared.js';

/**
 * Core's tests but those that judge the shared budget by the emulator's arrival times: the
 * workspace runs them as `core-budget`, in a group after the rest, so that a machine busy with every
 * other suite does not bunch their calls' arrivals.
 */
export const BUDGET_TESTS = ['test/stream.test.ts', 'test/read-back.test.ts'];

export default imbotProject('core', { exclude: BUDGET_TESTS });
