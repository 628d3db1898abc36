import { imbotProject } from '../../vitest.shared.js';

export default imbotProject('deno-bot');
