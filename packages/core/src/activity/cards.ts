import { CARD_MAX_BUTTONS, type CardButton, type RichMessage } from '../message/rich.js';
import { attachmentToText } from './convert.js';
import type { ActivityLike, AttachmentLike } from './protocol.js';

/**
 * Activities as neutral rich messages: hero and thumbnail cards, Adaptive Cards and suggested
 * actions become cards; image and file attachments become images and files; anything else becomes
 * readable text. Pure functions, shared by both adapters.
 */

/** A Bot Framework card action (`CardAction`), as far as a card button needs it. */
interface CardActionLike {
  type?: string;
  title?: string;
  text?: string;
  displayText?: string;
  value?: unknown;
}

const isWebUrl = (value: unknown): value is string =>
  typeof value === 'string' && /^https?:\/\//i.test(value);

/**
 * A button for a card action: URL actions (`openUrl`, `downloadFile`, …) open their URL; the others
 * (`imBack`, `postBack`, `messageBack`) send back their text or value. `undefined` for one with
 * nothing to show or send.
 */
export function cardButtonOf(action: CardActionLike): CardButton | undefined {
  const value = action.value;
  const title = action.title || (typeof value === 'string' ? value : '') || action.text || '';
  if (title === '') return undefined;
  if (
    action.type !== 'imBack' &&
    action.type !== 'postBack' &&
    action.type !== 'messageBack' &&
    isWebUrl(value)
  ) {
    return { title, type: 'url', url: value };
  }
  const sent = action.type === 'messageBack' ? (action.text ?? action.displayText) : undefined;
  const text =
    sent ?? (typeof value === 'string' ? value : value === undefined ? title : JSON.stringify(value));
  return text ? { title, type: 'message', value: text } : undefined;
}

function buttonsOf(actions: CardActionLike[] | undefined): CardButton[] {
  return (actions ?? [])
    .map(cardButtonOf)
    .filter((b): b is CardButton => b !== undefined)
    .slice(0, CARD_MAX_BUTTONS);
}

type Node = Record<string, unknown>;

/** Every element of an Adaptive Card body, depth first, in reading order. */
function* elements(node: unknown): Generator<Node> {
  if (Array.isArray(node)) {
    for (const child of node) yield* elements(child);
  } else if (node && typeof node === 'object') {
    const n = node as Node;
    yield n;
    for (const key of ['body', 'items', 'columns', 'inlines']) if (key in n) yield* elements(n[key]);
  }
}

/** An Adaptive Card action as a card action: `Action.OpenUrl` opens, `Action.Submit` / `Execute` send. */
function adaptiveAction(action: Node): CardActionLike {
  if (action.type === 'Action.OpenUrl')
    return { type: 'openUrl', title: String(action.title ?? ''), value: action.url };
  const data = action.data;
  return {
    type: 'imBack',
    title: String(action.title ?? ''),
    value: typeof data === 'string' ? data : (action.title ?? data),
  };
}

/** An Adaptive Card: its first text block is the title, the other text the body, its first image the picture. */
function adaptiveCard(card: Node): RichMessage {
  const lines: string[] = [];
  let imageUrl: string | undefined;
  for (const el of elements(card.body ?? [])) {
    if ((el.type === 'TextBlock' || el.type === 'TextRun') && typeof el.text === 'string')
      lines.push(el.text);
    if (el.type === 'FactSet' && Array.isArray(el.facts)) {
      for (const fact of el.facts as Node[]) lines.push(`${String(fact.title)}: ${String(fact.value)}`);
    }
    if (el.type === 'Image' && isWebUrl(el.url)) imageUrl ??= el.url;
  }
  const [title, ...rest] = lines;
  const actions = Array.isArray(card.actions) ? (card.actions as Node[]).map(adaptiveAction) : [];
  return cardOf({ title, text: rest.join('\n'), imageUrl, buttons: buttonsOf(actions) });
}

/** A card with its empty fields left out. */
function cardOf(fields: {
  title?: string | undefined;
  text?: string | undefined;
  imageUrl?: string | undefined;
  buttons: CardButton[];
}): RichMessage {
  const card: Extract<RichMessage, { type: 'card' }> = { type: 'card', buttons: fields.buttons };
  if (fields.title) card.title = fields.title;
  if (fields.text) card.text = fields.text;
  if (fields.imageUrl) card.imageUrl = fields.imageUrl;
  return card;
}

/** One attachment as a rich message, or as text when it is neither a card, an image nor a file. */
export function attachmentToMessage(attachment: AttachmentLike): RichMessage | undefined {
  const type = attachment.contentType ?? '';
  const content = (attachment.content ?? {}) as Node;
  if (type === 'application/vnd.microsoft.card.adaptive') return adaptiveCard(content);
  if (type === 'application/vnd.microsoft.card.hero' || type === 'application/vnd.microsoft.card.thumbnail') {
    const images = Array.isArray(content.images) ? (content.images as Node[]) : [];
    const image = images.find((i) => isWebUrl(i.url))?.url as string | undefined;
    const text = [content.subtitle, content.text].filter((l) => typeof l === 'string' && l !== '').join('\n');
    const title = typeof content.title === 'string' ? content.title : undefined;
    return cardOf({ title, text, imageUrl: image, buttons: buttonsOf(content.buttons as CardActionLike[]) });
  }
  if (isWebUrl(attachment.contentUrl)) {
    if (type.startsWith('image/')) {
      return attachment.name
        ? { type: 'image', url: attachment.contentUrl, alt: attachment.name }
        : { type: 'image', url: attachment.contentUrl };
    }
    const name = attachment.name || new URL(attachment.contentUrl).pathname.split('/').pop() || 'file';
    return { type: 'file', url: attachment.contentUrl, name };
  }
  const text = attachmentToText(attachment);
  return text ? { type: 'text', text } : undefined;
}

/**
 * The messages an outgoing activity becomes, in order: its text (with its suggested actions as the
 * buttons of a card around it), then each attachment.
 */
export function activityToMessages(activity: ActivityLike): RichMessage[] {
  const out: RichMessage[] = [];
  const suggested = buttonsOf(activity.suggestedActions?.actions);
  if (suggested.length > 0) out.push(cardOf({ text: activity.text, buttons: suggested }));
  else if (activity.text) out.push({ type: 'text', text: activity.text });
  for (const attachment of activity.attachments ?? []) {
    const message = attachmentToMessage(attachment);
    if (message) out.push(message);
  }
  return out;
}
