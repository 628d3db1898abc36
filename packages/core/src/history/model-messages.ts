import type { Conversation, InboundAttachment } from '../platform.js';

/**
 * The conversation in the shape model libraries take: the AI SDK's `ModelMessage` (`ai` 5 and
 * later), which `streamText`, Mastra and most TypeScript model code accept as it is. Declared here
 * structurally, so that core needs no model library; the tests check what it makes against the AI
 * SDK's own `modelMessageSchema`.
 */
export interface TextPart {
  type: 'text';
  text: string;
}

/** A picture, by its URL (the original picture, not a thumbnail). */
export interface ImagePart {
  type: 'image';
  image: string;
  mediaType?: string;
}

/** A file, voice note or video, by its URL and media type. */
export interface FilePart {
  type: 'file';
  data: string;
  mediaType: string;
  filename?: string;
}

export interface UserModelMessage {
  role: 'user';
  content: string | (TextPart | ImagePart | FilePart)[];
}

export interface AssistantModelMessage {
  role: 'assistant';
  content: string;
}

export type ModelMessage = UserModelMessage | AssistantModelMessage;

/** What a user's message must have to become a `UserModelMessage`. */
export interface UserMessageParts {
  from: string;
  conversation: Conversation;
  text: string;
  attachments: readonly InboundAttachment[];
}

/**
 * A user's message as the model reads it: its text (the bots' @-mentions already left out), each
 * picture as an `image` part and each file, voice note or video as a `file` part, by URL. In a
 * group the text starts with `<sender>: `, so that a model can tell the members apart. Plain text
 * stays a string. Parts the cloud gave no URL for are left out.
 */
export function userModelMessage(message: UserMessageParts): UserModelMessage {
  const text = message.conversation.type === 'group' ? `${message.from}: ${message.text}` : message.text;
  const media = message.attachments.flatMap(mediaPart);
  if (media.length === 0) return { role: 'user', content: text };
  return {
    role: 'user',
    content: [...(text.trim() === '' ? [] : [{ type: 'text' as const, text }]), ...media],
  };
}

/** The bot's own message as the model reads it: an assistant turn with its whole text. */
export function assistantModelMessage(text: string): AssistantModelMessage {
  return { role: 'assistant', content: text };
}

function mediaPart(attachment: InboundAttachment): (ImagePart | FilePart)[] {
  const url = attachment.url;
  if (url === undefined || attachment.kind === 'other') return [];
  const mediaType = mediaTypeOf(attachment);
  if (attachment.kind === 'image')
    return [{ type: 'image', image: url, ...(mediaType ? { mediaType } : {}) }];
  const part: FilePart = { type: 'file', data: url, mediaType: mediaType ?? FALLBACK[attachment.kind] };
  if (attachment.name !== undefined) part.filename = attachment.name;
  return [part];
}

/** What a file of a kind is taken for when neither its name nor the cloud says more. */
const FALLBACK: Record<Exclude<InboundAttachment['kind'], 'image' | 'other'>, string> = {
  file: 'application/octet-stream',
  audio: 'audio/mpeg',
  video: 'video/mp4',
};

const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  heic: 'image/heic',
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  amr: 'audio/amr',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  silk: 'audio/silk',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
};

/** Tencent's `ImageFormat` codes (1 JPG, 2 GIF, 3 PNG, 4 BMP), from `TIMImageElem`. */
const TENCENT_IMAGE_FORMATS: Record<number, string> = {
  1: 'image/jpeg',
  2: 'image/gif',
  3: 'image/png',
  4: 'image/bmp',
};

/**
 * An attachment's media type: from what the cloud says of it (Tencent's `ImageFormat` and
 * `VideoFormat`, RongCloud's file `type`), else its name's or URL's extension; undefined when none
 * tells.
 */
export function mediaTypeOf(attachment: InboundAttachment): string | undefined {
  const raw = attachment.raw as { MsgContent?: Record<string, unknown>; content?: Record<string, unknown> };
  const declared = raw?.MsgContent ?? raw?.content ?? {};
  const format = declared.ImageFormat;
  if (typeof format === 'number' && TENCENT_IMAGE_FORMATS[format]) return TENCENT_IMAGE_FORMATS[format];
  for (const field of ['VideoFormat', 'type']) {
    const value = declared[field];
    if (typeof value === 'string' && BY_EXTENSION[value.toLowerCase()])
      return BY_EXTENSION[value.toLowerCase()];
  }
  for (const where of [attachment.name, attachment.url && pathOf(attachment.url)]) {
    const extension = where ? /\.([a-z0-9]+)$/i.exec(where)?.[1]?.toLowerCase() : undefined;
    if (extension && BY_EXTENSION[extension]) return BY_EXTENSION[extension];
  }
  return undefined;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
