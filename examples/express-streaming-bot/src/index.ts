export { answer } from './answer.js';
export { BOT_ID, demoBot } from './bot.js';
export { ask, type Cloud, type Demo, startDemo } from './demo.js';
