export {
  type Concurrency,
  type ImbotOptions,
  type ImbotRouter,
  imbot,
  type Reply,
} from './middleware.js';
