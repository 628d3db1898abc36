import { modelMessageSchema } from 'ai';
import { describe, expect, it } from 'vitest';
import { parseTencentCallback } from '../tencent/webhook.js';
import { assistantModelMessage, mediaTypeOf, userModelMessage } from './model-messages.js';

const valid = (message: unknown) => expect(modelMessageSchema.safeParse(message).success).toBe(true);

describe('model messages', () => {
  it('a one-to-one text is a user message whose content is the text', () => {
    const message = userModelMessage({
      from: 'alice',
      conversation: { type: 'c2c', userId: 'alice' },
      text: 'hello',
      attachments: [],
    });
    expect(message).toEqual({ role: 'user', content: 'hello' });
    valid(message);
    valid(assistantModelMessage('Hi, Alice.'));
  });

  it('in a group the text starts with its sender, so that a model tells members apart', () => {
    const message = userModelMessage({
      from: 'bob',
      conversation: { type: 'group', groupId: 'g1' },
      text: 'and me?',
      attachments: [],
    });
    expect(message).toEqual({ role: 'user', content: 'bob: and me?' });
  });

  it('pictures are image parts and files, voice and video file parts, by URL with their media type', () => {
    const message = userModelMessage({
      from: 'alice',
      conversation: { type: 'c2c', userId: 'alice' },
      text: 'look',
      attachments: [
        { kind: 'image', url: 'https://cdn.example.com/cat.png', raw: {} },
        { kind: 'file', url: 'https://cdn.example.com/f/1', name: 'report.pdf', raw: {} },
        { kind: 'audio', url: 'https://cdn.example.com/v/1', raw: { MsgContent: {} } },
        { kind: 'video', url: 'https://cdn.example.com/m/1', raw: { MsgContent: { VideoFormat: 'mov' } } },
        { kind: 'other', raw: {} },
        { kind: 'image', raw: {} },
      ],
    });
    expect(message).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image', image: 'https://cdn.example.com/cat.png', mediaType: 'image/png' },
        {
          type: 'file',
          data: 'https://cdn.example.com/f/1',
          mediaType: 'application/pdf',
          filename: 'report.pdf',
        },
        { type: 'file', data: 'https://cdn.example.com/v/1', mediaType: 'audio/mpeg' },
        { type: 'file', data: 'https://cdn.example.com/m/1', mediaType: 'video/quicktime' },
      ],
    });
    valid(message);
  });

  it("a picture alone has no empty text part; the media type comes from the cloud's own word first", () => {
    const message = userModelMessage({
      from: 'alice',
      conversation: { type: 'c2c', userId: 'alice' },
      text: '',
      attachments: [{ kind: 'image', url: 'https://x.example/p', raw: { MsgContent: { ImageFormat: 2 } } }],
    });
    expect(message.content).toEqual([
      { type: 'image', image: 'https://x.example/p', mediaType: 'image/gif' },
    ]);
    valid(message);
    expect(mediaTypeOf({ kind: 'file', url: 'https://x/y', raw: { content: { type: 'DOCX' } } })).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(mediaTypeOf({ kind: 'file', url: 'https://x/y', raw: {} })).toBeUndefined();
  });

  it("a Tencent picture is the original (ImageInfoArray type 1), whatever the array's order", () => {
    const sizes = [
      { Type: 3, URL: 'https://cdn.example.com/p?thumb' },
      { Type: 2, URL: 'https://cdn.example.com/p?large' },
      { Type: 1, URL: 'https://cdn.example.com/p' },
    ];
    const parsed = parseTencentCallback({
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: 'alice',
      To_Account: '@RBT#bot',
      MsgKey: '1_2_3',
      MsgTime: 1_700_000_000,
      MsgBody: [{ MsgType: 'TIMImageElem', MsgContent: { ImageFormat: 1, ImageInfoArray: sizes } }],
    });
    expect(parsed.messages[0]?.attachments[0]?.url).toBe('https://cdn.example.com/p');
  });
});
