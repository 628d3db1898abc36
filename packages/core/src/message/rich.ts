import * as z from 'zod';
import { parseInput } from '../validation.js';

/**
 * The neutral rich message: what a bot may send beyond plain text, in words of its own. Each
 * platform maps it to its cloud's elements (Tencent `TIMImageElem` / `TIMFileElem` / `TIMCustomElem`,
 * RongCloud `RC:ImgMsg` / `RC:FileMsg` / `IMB:CardMsg`) and carries `fallbackText` wherever a client
 * cannot render it.
 */

/** A card button: sends `value` back to the bot as a message, or opens `url`. */
export type CardButton =
  | { title: string; type: 'message'; value: string }
  | { title: string; type: 'url'; url: string };

export type RichMessage =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; alt?: string }
  | { type: 'file'; url: string; name: string; size?: number }
  | { type: 'card'; title?: string; text?: string; imageUrl?: string; buttons: CardButton[] };

/** Buttons one card may carry: more than most clients show in a row or column. */
export const CARD_MAX_BUTTONS = 10;

const webUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const title = z.string().min(1, 'must not be empty').max(200);

const button = z.discriminatedUnion('type', [
  z.strictObject({
    title,
    type: z.literal('message'),
    value: z.string().min(1, 'must not be empty').max(2000),
  }),
  z.strictObject({ title, type: z.literal('url'), url: webUrl }),
]);

/** The schema every platform checks a rich message with before it makes any request. */
export const richMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string().min(1, 'must not be empty') }),
  z.strictObject({ type: z.literal('image'), url: webUrl, alt: z.string().max(200).optional() }),
  z.strictObject({
    type: z.literal('file'),
    url: webUrl,
    name: title,
    size: z.number().int().nonnegative().optional(),
  }),
  z
    .strictObject({
      type: z.literal('card'),
      title: title.optional(),
      text: z.string().max(4000).optional(),
      imageUrl: webUrl.optional(),
      buttons: z.array(button).max(CARD_MAX_BUTTONS),
    })
    .refine((card) => card.title || card.text || card.imageUrl || card.buttons.length > 0, {
      message: 'a card needs a title, text, an image or a button',
    }),
]);

/** Checks a rich message, throwing `ValidationError` naming the field (`message.buttons.0.url`). */
export function parseRichMessage(message: unknown): RichMessage {
  return parseInput(richMessageSchema, message, 'message') as RichMessage;
}

/**
 * What a client that cannot render `message` shows instead: readable text with every link, and a
 * card's buttons numbered so a user can still answer by typing one.
 */
export function fallbackText(message: RichMessage): string {
  switch (message.type) {
    case 'text':
      return message.text;
    case 'image':
      return message.alt ? `[Image: ${message.alt}] ${message.url}` : `[Image] ${message.url}`;
    case 'file':
      return `[File: ${message.name}] ${message.url}`;
    case 'card': {
      const lines = [message.title, message.text, message.imageUrl].filter(
        (l): l is string => l !== undefined && l !== '',
      );
      message.buttons.forEach((b, i) => {
        lines.push(b.type === 'url' ? `${i + 1}. ${b.title}: ${b.url}` : `${i + 1}. ${b.title}`);
      });
      return lines.join('\n');
    }
  }
}

/** The text in front of a group reply that @-mentions `userIds`, as clients show it. */
export function mentionPrefix(userIds: readonly string[]): string {
  return userIds.map((id) => `${mentionTag(id)} `).join('');
}

/**
 * How a mention of `userId` reads in a message's text: `@` and the id, but an id that starts with
 * `@` already (a Tencent robot's `@RBT#…`) as it is, never `@@RBT#…`.
 */
export function mentionTag(userId: string): string {
  return userId.startsWith('@') ? userId : `@${userId}`;
}

/**
 * The documented JSON a card travels as, the same on both clouds (Tencent `TIMCustomElem.Data`,
 * RongCloud `IMB:CardMsg` content): `businessID` names it for clients that render custom messages.
 */
export interface CardPayload {
  businessID: typeof CARD_BUSINESS_ID;
  version: 1;
  title?: string;
  text?: string;
  imageUrl?: string;
  buttons: CardButton[];
}

export const CARD_BUSINESS_ID = 'imbot_card';
/** What a client sends back when a user presses a card's `message` button. */
export const BUTTON_PRESS_BUSINESS_ID = 'imbot_button';

/** A card as it travels on the wire. */
export function cardPayload(card: Extract<RichMessage, { type: 'card' }>): CardPayload {
  const { type: _, ...fields } = card;
  return { businessID: CARD_BUSINESS_ID, version: 1, ...fields };
}

const buttonPress = z.looseObject({
  businessID: z.literal(BUTTON_PRESS_BUSINESS_ID),
  value: z.string().min(1),
  messageId: z.string().optional(),
});

/**
 * The press a client reports, from a custom message's JSON (a string or already parsed), or
 * `undefined` when it is something else.
 */
export function parseButtonPress(data: unknown): { value: string; messageId?: string } | undefined {
  let json = data;
  if (typeof data === 'string') {
    try {
      json = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  const press = buttonPress.safeParse(json);
  if (!press.success) return undefined;
  return press.data.messageId === undefined
    ? { value: press.data.value }
    : { value: press.data.value, messageId: press.data.messageId };
}
