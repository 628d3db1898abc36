import type { BotPlatform, HistorySlice, ReplyTarget, StoredMessage } from '../platform.js';

/** Messages one `readHistory` call asks for: as many as both clouds' history APIs return at once. */
const PAGE = 100;

/**
 * Up to `limit` messages of the conversation `target` names, newest first, from `before` (a slice's
 * own `before`) back, over as many of the platform's history reads as that takes. Empty where the
 * cloud keeps no history a bot can read. The slice's `before` continues further back.
 */
export async function readLatestMessages(
  platform: BotPlatform,
  target: ReplyTarget,
  limit: number,
  before?: string,
): Promise<HistorySlice> {
  const read = platform.readHistory?.bind(platform);
  const messages: StoredMessage[] = [];
  let cursor = before;
  while (read && messages.length < limit) {
    const slice = await read(target, {
      limit: Math.min(PAGE, limit - messages.length),
      ...(cursor !== undefined ? { before: cursor } : {}),
    });
    messages.push(...slice.messages);
    cursor = slice.before;
    if (cursor === undefined) break;
  }
  return cursor === undefined ? { messages } : { messages, before: cursor };
}
