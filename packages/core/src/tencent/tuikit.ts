import type { MsgBodyElement } from './schemas.js';

/**
 * TUIKit's AI-robot protocol: custom messages (`TIMCustomElem`) whose `Data` is a JSON object with
 * a `chatbotPlugin` version and a `src` saying what the message is. TUIKit reads nothing else of a
 * robot message (not `Desc`, `Ext` or `CloudCustomData`): TUIKit 8.x `ChatbotData.java`, uni-app
 * `aiRobotManager/const.ts`, Compose `ChatbotMessageProtocol.kt` (notes/tuikit-protocol.md §1–2).
 */

/** The version today's TUIKit (iOS/Android 8.6+, uni-app 3.x, Compose) renders: 2. */
export const CHATBOT_PLUGIN = 2;
/**
 * The version of the retired native TUIChatBotPlugin, the only one whose clients send the greeting
 * (`src: 7`) and render branch cards (`src: 15`): `TUIConstants.TUIChatBotPlugin.CHAT_BOT_MESSAGE_VALUE`.
 */
export const LEGACY_CHATBOT_PLUGIN = 1;

/** `src` values: a streamed answer, the user's stop, an error; the legacy greeting and branch card. */
export const TUIKIT_SRC = { stream: 2, greeting: 7, branch: 15, stop: 22, error: 23 } as const;

/**
 * What TUIKit shows when an answer failed or was cut off before it said anything: its `src: 23`
 * bubble shows `errorInfo` (TUIKit `ChatbotMessageBean`, iOS `getDisplayString`).
 */
export const DEFAULT_ERROR_INFO = 'The answer could not be completed.';

/**
 * The data of a streamed answer as it stands: `chunks` joined is the text TUIKit shows, and
 * `isFinished` is always sent, since clients disagree on its default (iOS reads it absent as 0 and
 * keeps the Stop button up; Android as 1): notes §2.2.
 */
export function streamData(chunks: readonly string[], finished: boolean): string {
  return JSON.stringify({
    chatbotPlugin: CHATBOT_PLUGIN,
    src: TUIKIT_SRC.stream,
    chunks,
    isFinished: finished ? 1 : 0,
  });
}

/** The data of an answer that failed or was interrupted: TUIKit shows `errorInfo`, as finished (§6). */
export function errorData(errorInfo: string): string {
  return JSON.stringify({ chatbotPlugin: CHATBOT_PLUGIN, src: TUIKIT_SRC.error, errorInfo, isFinished: 1 });
}

/**
 * The data of a branch card (`src: 15`): `welcome_msg` answers the greeting, `clarify_msg` asks which
 * question the user meant. Each item is tapped into a plain text message of its `content`
 * (TUIChatBotPluginBranchCell, TUIChatBotPresenter.OnItemContentSelected: §5). Only the legacy
 * plugin renders it, so it carries that plugin's version.
 */
export function branchData(
  subtype: 'welcome_msg' | 'clarify_msg',
  title: string,
  items: readonly string[],
): string {
  return JSON.stringify({
    chatbotPlugin: LEGACY_CHATBOT_PLUGIN,
    src: TUIKIT_SRC.branch,
    subtype,
    content: { title, items: items.map((content) => ({ content })) },
  });
}

/** A message body of one custom element carrying `data`. */
export function chatbotElement(data: string): MsgBodyElement {
  return { MsgType: 'TIMCustomElem', MsgContent: { Data: data } };
}

/** The chatbotPlugin data of a message body, parsed, when its first custom element carries some. */
export function chatbotDataOf(msgBody: readonly MsgBodyElement[]): Record<string, unknown> | undefined {
  for (const element of msgBody) {
    if (element.MsgType !== 'TIMCustomElem') continue;
    const parsed = parseChatbotData(element.MsgContent.Data);
    if (parsed) return parsed;
  }
  return undefined;
}

/** `data` as a chatbotPlugin object, or `undefined` when it is not one. */
export function parseChatbotData(data: unknown): Record<string, unknown> | undefined {
  if (typeof data !== 'string' || !data.includes('chatbotPlugin')) return undefined;
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    return typeof (parsed as { chatbotPlugin?: unknown }).chatbotPlugin === 'number'
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The text TUIKit shows for a robot message's data: the joined `chunks`, or an error's `errorInfo`. */
export function chatbotTextOf(data: Record<string, unknown>): string {
  if (data.src === TUIKIT_SRC.error) return typeof data.errorInfo === 'string' ? data.errorInfo : '';
  const chunks = data.chunks;
  if (Array.isArray(chunks)) return chunks.map((c) => (typeof c === 'string' ? c : '')).join('');
  return typeof chunks === 'string' ? chunks : '';
}
