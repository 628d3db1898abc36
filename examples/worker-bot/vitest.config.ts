import { imbotProject } from '../../vitest.shared.js';

export default imbotProject('worker-bot');
