export { answer } from './answer.js';
export { BOT_ID, demoBot, MENU } from './bot.js';
export { ask, type Cloud, DEMO_GROUP, DEMO_TENCENT_APP, type Demo, startDemo } from './demo.js';
