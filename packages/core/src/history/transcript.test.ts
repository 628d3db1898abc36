import { describe, expect, it } from 'vitest';
import { MemoryTranscriptStore, type TranscriptEntry, transcriptKey } from './transcript.js';

const entry = (id: string, text = id): TranscriptEntry => ({
  id,
  role: 'user',
  from: 'alice',
  text,
  time: 0,
});

describe('MemoryTranscriptStore', () => {
  it('reads the newest messages oldest first, keeping at most maxMessages and maxChars per conversation', async () => {
    const store = new MemoryTranscriptStore({ maxMessages: 3, maxChars: 10 });
    for (const id of ['a', 'b', 'c', 'd']) await store.append('k', entry(id));
    expect((await store.read('k', 10)).map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect((await store.read('k', 2)).map((e) => e.id)).toEqual(['c', 'd']);
    await store.append('k', entry('e', '0123456789'));
    expect((await store.read('k', 10)).map((e) => e.id)).toEqual(['e']);
  });

  it('keeps at most maxConversations, forgetting the one written least recently', async () => {
    const store = new MemoryTranscriptStore({ maxConversations: 2 });
    await store.append('one', entry('1'));
    await store.append('two', entry('2'));
    await store.append('one', entry('3'));
    await store.append('three', entry('4'));
    expect(await store.read('two', 10)).toEqual([]);
    expect((await store.read('one', 10)).map((e) => e.id)).toEqual(['1', '3']);
  });

  it('keys a conversation by cloud, bot and chat, the same from a message and from a reply target', () => {
    const message = {
      platform: 'tencent',
      botId: '@RBT#bot',
      from: 'alice',
      conversation: { type: 'group' as const, groupId: 'g1' },
      text: '',
      rawText: '',
      mentions: [],
      messageKey: 'k',
      time: new Date(0),
      attachments: [],
      raw: {},
    };
    expect(transcriptKey('tencent', message)).toBe(
      transcriptKey('tencent', { botId: '@RBT#bot', groupId: 'g1', mention: ['alice'] }),
    );
    expect(transcriptKey('tencent', { ...message, conversation: { type: 'c2c', userId: 'alice' } })).toBe(
      transcriptKey('tencent', { botId: '@RBT#bot', userId: 'alice' }),
    );
  });
});
