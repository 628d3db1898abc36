import { imbotProject } from '../../vitest.shared.js';

export default imbotProject('chat-sdk-bot');
