import { cardPayload, fallbackText, mentionPrefix, type RichMessage } from '../message/rich.js';
import type { QuotedMessage } from '../platform.js';
import type { MsgBodyElement } from './schemas.js';

/**
 * The neutral rich message in Tencent's message elements: pure conversions, shared by the
 * platform's sends and edits.
 */

/** `ImageFormat` by file extension, as the cloud numbers them; 255 is "other". */
const IMAGE_FORMATS: Record<string, number> = { jpg: 1, jpeg: 1, gif: 2, png: 3, bmp: 4 };

function imageFormat(url: string): number {
  const ext = new URL(url).pathname.split('.').pop()?.toLowerCase() ?? '';
  return IMAGE_FORMATS[ext] ?? 255;
}

/** A stable id for a file known only by URL: the cloud's `UUID` field. */
function uuidOf(url: string): string {
  return new URL(url).pathname.split('/').pop() || url;
}

/** The `businessID` of TUIKit's typing element. */
export const TYPING_BUSINESS_ID = 'user_typing_status';

/**
 * TUIKit's typing element: a `TIMCustomElem` whose `Data` is `{ businessID: "user_typing_status",
 * typingStatus, version, userAction, actionParam }` (the last two for older TUIKit versions). A
 * `statusText` rides along for clients that show what runs; TUIKit ignores it.
 */
export function typingElement(typing: boolean, statusText?: string): MsgBodyElement {
  const data = {
    businessID: TYPING_BUSINESS_ID,
    typingStatus: typing ? 1 : 0,
    version: 1,
    userAction: typing ? 14 : 0,
    actionParam: typing ? 'EIMAMSG_InputStatus_Ing' : 'EIMAMSG_InputStatus_End',
    ...(statusText ? { statusText } : {}),
  };
  return {
    MsgType: 'TIMCustomElem',
    MsgContent: { Data: JSON.stringify(data), Desc: '', Ext: '', Sound: '' },
  };
}

/** A text element. */
export function textElement(text: string): MsgBodyElement {
  return { MsgType: 'TIMTextElem', MsgContent: { Text: text } };
}

/**
 * The elements of `message`. A card is a `TIMCustomElem` whose `Data` is the card JSON and whose
 * `Desc` is the fallback text that clients without a card renderer show (and push notices use).
 * Images and files are sent by URL: the three image sizes all point at it.
 */
export function tencentElements(message: RichMessage): MsgBodyElement[] {
  switch (message.type) {
    case 'text':
      return [textElement(message.text)];
    case 'image': {
      const format = imageFormat(message.url);
      const info = (type: number) => ({ Type: type, Size: 0, Width: 0, Height: 0, URL: message.url });
      return [
        {
          MsgType: 'TIMImageElem',
          MsgContent: { UUID: uuidOf(message.url), ImageFormat: format, ImageInfoArray: [1, 2, 3].map(info) },
        },
      ];
    }
    case 'file':
      return [
        {
          MsgType: 'TIMFileElem',
          MsgContent: {
            Url: message.url,
            UUID: uuidOf(message.url),
            FileSize: message.size ?? 0,
            FileName: message.name,
            Download_Flag: 2,
          },
        },
      ];
    case 'card':
      return [
        {
          MsgType: 'TIMCustomElem',
          MsgContent: {
            Data: JSON.stringify(cardPayload(message)),
            Desc: fallbackText(message),
            Ext: 'imbot_card',
            Sound: '',
          },
        },
      ];
  }
}

/**
 * A group message that @-mentions `mention`: the mentions as text in front (clients only show
 * mentions in text elements, so a non-text message gets its own text element first) and
 * `GroupAtInfo` naming each user.
 */
export function withMentions(
  elements: MsgBodyElement[],
  mention: readonly string[],
): { msgBody: MsgBodyElement[]; groupAtInfo?: { GroupAt_Account: string }[] } {
  if (mention.length === 0) return { msgBody: elements };
  const prefix = mentionPrefix(mention);
  const [first, ...rest] = elements;
  const msgBody =
    first?.MsgType === 'TIMTextElem'
      ? [textElement(`${prefix}${(first.MsgContent as { Text: string }).Text}`), ...rest]
      : [textElement(prefix.trimEnd()), ...elements];
  return { msgBody, groupAtInfo: mention.map((id) => ({ GroupAt_Account: id })) };
}

/**
 * The `CloudCustomData` of a reply that quotes `quote`, as TUIKit writes and shows one:
 * `{"messageReply": { messageID, messageAbstract, messageSender, messageType: 1 (text), version: 1 }}`.
 * The abstract is the quoted text's first 100 characters.
 */
export function replyCloudData(quote: QuotedMessage): string {
  return JSON.stringify({
    messageReply: {
      messageID: quote.messageId,
      messageAbstract: quote.text.slice(0, 100),
      messageSender: quote.from,
      messageType: 1,
      version: 1,
    },
  });
}
