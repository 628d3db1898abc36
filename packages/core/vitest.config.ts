import { imbotProject } from '../../vitest.shared.js';

/**
 * Core's tests but those that judge the shared budget by the emulator's arrival times: the
 * workspace runs them as `core-budget`, after the rest and one file at a time. The budget's learnt
 * round-trip floor assumes a route whose fastest trip holds; a machine whose load swings as other
 * suites start and stop makes the in-process route suddenly faster, which the floor cannot foresee.
 */
export const BUDGET_TESTS = ['test/stream.test.ts', 'test/read-back.test.ts'];

export default imbotProject('core', { exclude: BUDGET_TESTS });
