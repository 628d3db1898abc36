export type { RedisClient, RedisConnection, RedisOptions } from './connection.js';
export { RedisInbox, type RedisInboxOptions } from './inbox.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './rate-limiter.js';
export { RedisRouteStore, type RedisRouteStoreOptions } from './route-store.js';
export { RedisSeenStore, type RedisSeenStoreOptions } from './seen-store.js';
export { RedisStopChannel, type RedisStopChannelOptions } from './stop-channel.js';
export { RedisStreamJournal, type RedisStreamJournalOptions } from './stream-journal.js';
export { RedisTranscriptStore, type RedisTranscriptStoreOptions } from './transcript-store.js';
