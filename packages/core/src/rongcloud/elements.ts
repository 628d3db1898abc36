import { cardPayload, fallbackText, mentionPrefix, type RichMessage } from '../message/rich.js';
import type { QuotedMessage } from '../platform.js';
import type { RongMessage } from './schemas.js';

/**
 * The neutral rich message in RongCloud's message types: pure conversions, shared by the client's
 * publishing and the platform.
 */

/** The custom message type cards travel as; clients that render cards register it. */
export const CARD_OBJECT_NAME = 'IMB:CardMsg';
/** The custom message type a client sends when a user presses a card's `message` button. */
export const BUTTON_OBJECT_NAME = 'IMB:ButtonMsg';

/** A text message (`RC:TxtMsg`). */
export function textMessage(text: string): RongMessage {
  return { objectName: 'RC:TxtMsg', content: { content: text, extra: '' } };
}

/**
 * The message `message` becomes: `RC:TxtMsg`, `RC:ImgMsg` (by URL, no thumbnail), `RC:FileMsg`,
 * or a card as `IMB:CardMsg` whose content is the card JSON plus `content`, the text fallback that
 * clients without a card renderer and push notices show.
 */
export function rongMessageOf(message: RichMessage): RongMessage {
  switch (message.type) {
    case 'text':
      return textMessage(message.text);
    case 'image':
      return {
        objectName: 'RC:ImgMsg',
        content: { content: '', imageUri: message.url, extra: '' },
        pushContent: fallbackText(message),
      };
    case 'file': {
      const ext = new URL(message.url).pathname.split('.').pop() ?? '';
      return {
        objectName: 'RC:FileMsg',
        content: { name: message.name, size: message.size ?? 0, type: ext, fileUrl: message.url, extra: '' },
        pushContent: fallbackText(message),
      };
    }
    case 'card': {
      const fallback = fallbackText(message);
      return {
        objectName: CARD_OBJECT_NAME,
        content: { ...cardPayload(message), content: fallback },
        pushContent: fallback,
      };
    }
  }
}

/**
 * `message` @-mentioning `mention` in a group: `mentionedInfo` (type 2, these users) in its
 * content, and for text the mentions in front, as clients write them.
 */
export function withMentions(message: RongMessage, mention: readonly string[]): RongMessage {
  if (mention.length === 0) return message;
  const content: Record<string, unknown> = {
    ...message.content,
    mentionedInfo: { type: 2, userIdList: [...mention], mentionedContent: '' },
  };
  if (message.objectName === 'RC:TxtMsg')
    content.content = `${mentionPrefix(mention)}${String(content.content)}`;
  return { ...message, content };
}

/**
 * A text that quotes `quote`: `RC:ReferenceMsg`, whose content is the text, and the quoted
 * message's id, sender and text (`referMsgUid`, `referMsgUserId`, `referMsg`), as RongCloud's
 * clients show a reply.
 */
export function referenceMessage(text: string, quote: QuotedMessage): RongMessage {
  return {
    objectName: 'RC:ReferenceMsg',
    content: {
      content: text,
      referMsgUserId: quote.from,
      referMsg: { content: quote.text, extra: '' },
      objName: 'RC:TxtMsg',
      referMsgUid: quote.messageId,
      extra: '',
    },
  };
}

/**
 * The one-to-one read notice `RC:ReadNtf`: its sender has read what it received up to the message
 * `messageId`, sent at `sentTime` (milliseconds); `type` 1 is a read notice.
 */
export function readNotice(messageId: string, sentTime: number): RongMessage {
  return {
    objectName: 'RC:ReadNtf',
    content: { lastMessageSendTime: sentTime, messageUId: messageId, type: 1 },
  };
}
