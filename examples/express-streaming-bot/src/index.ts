export { answer } from './answer.js';
export { BOT_ID, demoBot, MENU } from './bot.js';
export { ask, type Cloud, DEMO_GROUP, type Demo, startDemo } from './demo.js';
