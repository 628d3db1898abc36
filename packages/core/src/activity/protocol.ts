/**
 * The parts of the Activity protocol (Bot Framework, Microsoft 365 Agents SDK, Teams) that imbot
 * reads and writes, as plain structural types: both SDKs' activities fit them, so the conversions
 * below serve both adapters.
 */

/** A user or a bot in an activity. */
export interface ChannelAccountLike {
  id: string;
  name?: string;
  role?: string;
}

/** The conversation an activity belongs to. */
export interface ConversationLike {
  id: string;
  isGroup?: boolean;
  conversationType?: string;
  name?: string;
}

export interface AttachmentLike {
  contentType: string;
  contentUrl?: string;
  content?: unknown;
  name?: string;
}

export interface EntityLike {
  type: string;
  [key: string]: unknown;
}

/** Where an activity goes or came from, as an SDK keeps it for proactive messages. */
export interface ConversationReferenceLike {
  activityId?: string;
  channelId?: string;
  serviceUrl?: string;
  /** The bot (Bot Framework). */
  bot?: ChannelAccountLike;
  /** The bot (Agents SDK). */
  agent?: ChannelAccountLike | null;
  user?: ChannelAccountLike;
  conversation?: ConversationLike;
}

/** An activity, as far as imbot cares. */
export interface ActivityLike {
  type?: string;
  id?: string;
  name?: string;
  value?: unknown;
  timestamp?: Date | string;
  channelId?: string;
  serviceUrl?: string;
  conversation?: ConversationLike;
  from?: ChannelAccountLike;
  recipient?: ChannelAccountLike;
  text?: string;
  textFormat?: string;
  locale?: string;
  channelData?: unknown;
  entities?: EntityLike[];
  attachments?: AttachmentLike[];
  suggestedActions?: { actions?: { type?: string; title?: string; value?: unknown }[] };
  relatesTo?: ConversationReferenceLike;
}

/** The `streaminfo` entity of the streaming contract that Teams, teams-ai and the Agents SDK use. */
export interface StreamInfo {
  type: 'streaminfo';
  streamId?: string;
  streamType?: 'informative' | 'streaming' | 'final';
  streamSequence?: number;
}
