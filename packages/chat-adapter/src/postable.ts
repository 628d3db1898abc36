import type { CardButton, RichMessage } from '@imbot/core';
import {
  type AdapterPostableMessage,
  BaseFormatConverter,
  type CardChild,
  type CardElement,
  cardChildToFallbackText,
  isCardElement,
  NotImplementedError,
  parseMarkdown,
  type Root,
  stringifyMarkdown,
} from 'chat';

/**
 * Both clouds' clients take markdown as it is (TUIKit and RongCloud's IMKit render it in streamed
 * messages, and show it as typed elsewhere), so the Chat SDK's mdast goes out as markdown, and
 * markdown or plain text given as a string goes out exactly as written.
 */
export class ImbotFormatConverter extends BaseFormatConverter {
  override renderPostable(message: AdapterPostableMessage): string {
    if (typeof message === 'string') return message;
    if ('markdown' in message) return message.markdown;
    if ('raw' in message) return message.raw;
    return super.renderPostable(message);
  }

  toAst(platformText: string): Root {
    return parseMarkdown(platformText);
  }

  fromAst(ast: Root): string {
    return stringifyMarkdown(ast).trimEnd();
  }
}

/** A card's `message` button as the Chat SDK knows it: the action id and the value it carries. */
export interface ButtonAction {
  actionId: string;
  value?: string | undefined;
}

type Card = Extract<RichMessage, { type: 'card' }>;

/** The card a postable carries (`{ card }` or a bare `CardElement`), if any. */
export function cardOf(message: AdapterPostableMessage): CardElement | undefined {
  if (isCardElement(message)) return message;
  if (typeof message === 'object' && message !== null && 'card' in message) return message.card;
  return undefined;
}

/** Refuses what neither cloud can carry through the adapter: uploads (send files and images by URL). */
export function refuseUploads(message: AdapterPostableMessage): void {
  if (typeof message === 'object' && message !== null && 'files' in message && message.files?.length) {
    throw new NotImplementedError(
      'file uploads are not supported on these clouds: post an image or file card by URL instead',
      'files',
    );
  }
}

/**
 * A button's action id and value as one card button value (`[id, value]` as JSON), which the
 * platform signs on its way out.
 */
export function buttonActionValue(action: ButtonAction): string {
  return JSON.stringify([action.actionId, action.value ?? null]);
}

/**
 * The action a pressed value carries: the id and value `buttonActionValue` joined, or, for a value
 * that is not one (a button of a card another sender made), the value as the action id.
 */
export function openButtonAction(value: string): ButtonAction {
  try {
    const decoded: unknown = JSON.parse(value);
    if (
      Array.isArray(decoded) &&
      decoded.length === 2 &&
      typeof decoded[0] === 'string' &&
      (decoded[1] === null || typeof decoded[1] === 'string')
    ) {
      return decoded[1] === null ? { actionId: decoded[0] } : { actionId: decoded[0], value: decoded[1] };
    }
  } catch {
    // Not one of the adapter's values.
  }
  return { actionId: value };
}

/**
 * The Chat SDK's card as imbot's neutral card: the title (and subtitle), the text of its text,
 * fields, links, tables and sections, its first image, and its buttons, each `button` carrying its
 * action (`buttonActionValue`) and each `link-button` opening its URL. Selects have no counterpart
 * on these clouds: a `NotImplementedError`.
 */
export function cardToRich(card: CardElement): Card {
  const lines: string[] = card.subtitle ? [card.subtitle] : [];
  const buttons: CardButton[] = [];
  let imageUrl = card.imageUrl;
  const visit = (children: readonly CardChild[]): void => {
    for (const child of children) {
      if (child.type === 'section') visit(child.children);
      else if (child.type === 'image' && imageUrl === undefined) imageUrl = child.url;
      else if (child.type === 'actions') {
        for (const action of child.children) {
          if (action.type === 'button') {
            buttons.push({
              type: 'message',
              title: action.label,
              value: buttonActionValue({ actionId: action.id, value: action.value }),
            });
          } else if (action.type === 'link-button') {
            buttons.push({ type: 'url', title: action.label, url: action.url });
          } else {
            throw new NotImplementedError(
              `a card's ${action.type} has no counterpart on these clouds: use buttons`,
              'select',
            );
          }
        }
      } else {
        const text = cardChildToFallbackText(child);
        if (text) lines.push(text);
      }
    }
  };
  visit(card.children);
  const rich: Card = { type: 'card', buttons };
  if (card.title) rich.title = card.title;
  if (lines.length > 0) rich.text = lines.join('\n');
  if (imageUrl !== undefined) rich.imageUrl = imageUrl;
  return rich;
}
