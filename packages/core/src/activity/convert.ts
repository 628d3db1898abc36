import { ValidationError } from '../errors.js';
import { mentionTag } from '../message/rich.js';
import type { InboundAttachment, InboundMessage, ReplyTarget } from '../platform.js';
import type {
  ActivityLike,
  AttachmentLike,
  ConversationReferenceLike,
  EntityLike,
  StreamInfo,
} from './protocol.js';

/**
 * Conversions between imbot's neutral messages and activities (Bot Framework, Agents SDK): pure
 * functions, so they can be tested with fixtures and shared by every adapter.
 */

const MIME_OF: Record<InboundAttachment['kind'], string> = {
  image: 'image/*',
  file: 'application/octet-stream',
  audio: 'audio/*',
  video: 'video/*',
  other: 'application/vnd.imbot.element+json',
};

/**
 * The conversation id of a chat. One-to-one chats are per bot and user (`<user>|<bot>`), so that
 * two bots of one app keep separate conversation state; a group's id is the group id.
 */
export function conversationIdFor(target: ReplyTarget): string {
  return 'groupId' in target ? target.groupId : `${target.userId}|${target.botId}`;
}

/** Turns an inbound message into the activity a bot's turn runs on. */
export function inboundToActivity(message: InboundMessage): ActivityLike {
  const group = message.conversation.type === 'group' ? message.conversation.groupId : undefined;
  const target: ReplyTarget = group
    ? { botId: message.botId, groupId: group }
    : { botId: message.botId, userId: message.from };
  const entities: EntityLike[] = message.mentions.map((id) => ({
    type: 'mention',
    mentioned: { id, name: id, role: 'bot' },
    text: mentionTag(id),
  }));
  const attachments: AttachmentLike[] = message.attachments.map((a) => {
    const attachment: AttachmentLike = { contentType: MIME_OF[a.kind] };
    if (a.url) attachment.contentUrl = a.url;
    if (a.name) attachment.name = a.name;
    if (a.kind === 'other') attachment.content = a.raw;
    return attachment;
  });
  const activity: ActivityLike = {
    type: 'message',
    id: message.messageKey,
    timestamp: message.time,
    channelId: message.platform,
    serviceUrl: '',
    conversation: {
      id: conversationIdFor(target),
      isGroup: group !== undefined,
      conversationType: group ? 'groupChat' : 'personal',
      name: group ?? message.from,
    },
    from: { id: message.from, name: message.from, role: 'user' },
    recipient: { id: message.botId, name: message.botId, role: 'bot' },
    text: message.text,
    textFormat: 'plain',
    locale: 'en-US',
    channelData: message.raw,
  };
  if (entities.length > 0) activity.entities = entities;
  if (attachments.length > 0) activity.attachments = attachments;
  // A card's button press: the value is the text, and `value` says it was pressed, not typed.
  if (message.action) activity.value = { action: message.action.value, messageId: message.action.messageId };
  return activity;
}

/**
 * Where an outgoing activity (or a conversation reference) goes: the bot, and the user or group.
 * With `mentionUser`, a group message @-mentions the user it is addressed to (a reply's recipient).
 */
export function targetOf(
  reference: ConversationReferenceLike | ActivityLike,
  options: { mentionUser?: boolean } = {},
): ReplyTarget {
  const ref = reference as ConversationReferenceLike & ActivityLike;
  // An outgoing activity carries the bot in `from`; a reference in `bot` (Bot Framework) or `agent`.
  const bot = ref.bot ?? ref.agent ?? ref.from;
  const user = ref.user ?? ref.recipient;
  if (!bot?.id) throw new ValidationError('bot', 'the activity or reference names no bot (from / bot)');
  if (ref.conversation?.isGroup) {
    const target = { botId: bot.id, groupId: ref.conversation.id };
    const mentioned = options.mentionUser && user?.id && user.id !== bot.id && user.role !== 'bot';
    return mentioned ? { ...target, mention: [user.id] } : target;
  }
  if (!user?.id)
    throw new ValidationError('user', 'the activity or reference names no user (recipient / user)');
  return { botId: bot.id, userId: user.id };
}

/**
 * A conversation reference built from ids alone, for proactive messages after a restart; it names the
 * bot both ways (`bot`, `agent`), so either SDK takes it.
 */
export function conversationReferenceFor(
  options: { botId: string; channelId?: string } & ({ userId: string } | { groupId: string }),
): ConversationReferenceLike {
  const target: ReplyTarget =
    'groupId' in options
      ? { botId: options.botId, groupId: options.groupId }
      : { botId: options.botId, userId: options.userId };
  const group = 'groupId' in target;
  return {
    channelId: options.channelId ?? 'tencent',
    serviceUrl: '',
    bot: { id: target.botId, name: target.botId, role: 'bot' },
    agent: { id: target.botId, name: target.botId, role: 'bot' },
    ...('userId' in target ? { user: { id: target.userId, name: target.userId, role: 'user' } } : {}),
    conversation: {
      id: conversationIdFor(target),
      isGroup: group,
      conversationType: group ? 'groupChat' : 'personal',
      name: group ? target.groupId : target.userId,
    },
  };
}

/** The `streaminfo` entity of an activity (or the same fields in `channelData`, as teams-ai mirrors them). */
export function streamInfoOf(activity: ActivityLike): StreamInfo | undefined {
  const entity = activity.entities?.find((e) => e.type === 'streaminfo') as StreamInfo | undefined;
  if (entity) return entity;
  const data = activity.channelData as Partial<StreamInfo> | undefined;
  return data?.streamType ? { type: 'streaminfo', ...data } : undefined;
}

type Card = {
  title?: string;
  subtitle?: string;
  text?: string;
  images?: { url?: string }[];
  buttons?: { title?: string; value?: unknown }[];
  body?: unknown[];
  actions?: { title?: string }[];
};

/** The text of an Adaptive Card: every TextBlock and RichText run, in order. */
function adaptiveCardText(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const child of node) adaptiveCardText(child, out);
  } else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if ((n.type === 'TextBlock' || n.type === 'TextRun') && typeof n.text === 'string') out.push(n.text);
    for (const key of ['body', 'items', 'columns', 'inlines', 'facts'])
      if (key in n) adaptiveCardText(n[key], out);
    if (n.title !== undefined && typeof n.value === 'string') out.push(`${n.title}: ${n.value}`);
  }
  return out;
}

/** A readable line or lines for an attachment the cloud cannot show as such. */
export function attachmentToText(attachment: Partial<AttachmentLike>): string {
  const type = attachment.contentType ?? '';
  const card = (attachment.content ?? {}) as Card;
  if (type === 'application/vnd.microsoft.card.adaptive') {
    const actions = (card.actions ?? []).map((a) => a.title).filter(Boolean);
    return [
      ...adaptiveCardText(card.body ?? []),
      ...(actions.length ? [`Actions: ${actions.join(' | ')}`] : []),
    ].join('\n');
  }
  if (type.startsWith('application/vnd.microsoft.card.')) {
    const lines = [card.title, card.subtitle, card.text].filter(
      (l): l is string => typeof l === 'string' && l !== '',
    );
    for (const image of card.images ?? []) if (image.url) lines.push(image.url);
    const buttons = (card.buttons ?? []).map((b) => b.title).filter(Boolean);
    if (buttons.length) lines.push(`Options: ${buttons.join(' | ')}`);
    return lines.join('\n');
  }
  const label = attachment.name ?? (type || 'attachment');
  return attachment.contentUrl ? `[${label}] ${attachment.contentUrl}` : `[${label}]`;
}

/**
 * The text a message activity becomes on a cloud that shows text: its text, then a readable form of
 * each attachment (cards, images, files), then its suggested actions.
 */
export function activityToText(activity: ActivityLike): string {
  const parts: string[] = [];
  if (activity.text) parts.push(activity.text);
  for (const attachment of activity.attachments ?? []) {
    const text = attachmentToText(attachment);
    if (text) parts.push(text);
  }
  const actions = activity.suggestedActions?.actions
    ?.map((a) => a.title ?? String(a.value ?? ''))
    .filter(Boolean);
  if (actions?.length) parts.push(`Options: ${actions.join(' | ')}`);
  return parts.join('\n');
}
