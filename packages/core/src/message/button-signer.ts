import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ImbotError } from '../errors.js';
import type { Conversation, InboundMessage, ReplyTarget } from '../platform.js';
import type { RichMessage } from './rich.js';

/**
 * Signed card buttons. A user's client sends a `message` button's value back as a custom message
 * that any client could make up, so the value a bot sends is signed and a press is honoured only if
 * its signature holds: `imb1.<payload>.<mac>`, where the payload (base64url JSON) holds the value,
 * a nonce and when the card was sent, and the MAC (HMAC-SHA256, 128 bits) binds them to the bot and
 * the conversation the card went to, under a key derived from the app's secret. A press copied into
 * another conversation, made up, altered or older than the buttons' lifetime is refused.
 */
const PREFIX = 'imb1.';
const MAC_BYTES = 16;

/** The purpose the button key is derived for (HKDF info): changing it voids every card sent. */
export const BUTTON_KEY_PURPOSE = 'imbot card buttons v1';

/** How long a card's buttons stay pressable by default: 30 days. */
export const BUTTON_TTL_MS = 30 * 24 * 60 * 60_000;

/** Why a press was refused. */
export type ButtonProblem = 'unsigned' | 'malformed' | 'bad-mac' | 'expired';

/** A card button press that the bot did not sign for this conversation: it reaches no handler. */
export class ButtonPressRefusedError extends ImbotError {
  readonly problem: ButtonProblem;
  constructor(problem: ButtonProblem) {
    super('ACTION_REFUSED', `a card button press was refused (${problem}) and not handled`);
    this.name = 'ButtonPressRefusedError';
    this.problem = problem;
  }
}

/** The bot and conversation a button's MAC binds it to. */
export interface ButtonScope {
  botId: string;
  /** `c2c:<user>` or `group:<group>`: where the card was sent, and so where a press may come from. */
  conversation: string;
}

/** The scope of a card sent to `target`. */
export function scopeOfTarget(target: ReplyTarget): ButtonScope {
  return {
    botId: target.botId,
    conversation: 'groupId' in target ? `group:${target.groupId}` : `c2c:${target.userId}`,
  };
}

/** The scope a press in `message` must have been signed for. */
export function scopeOfMessage(
  message: Pick<InboundMessage, 'botId' | 'from' | 'conversation'>,
): ButtonScope {
  const conversation: Conversation = message.conversation;
  return {
    botId: message.botId,
    conversation: conversation.type === 'group' ? `group:${conversation.groupId}` : `c2c:${message.from}`,
  };
}

function macOf(key: Uint8Array, scope: ButtonScope, payload: string): Buffer {
  return createHmac('sha256', key)
    .update(JSON.stringify([scope.botId, scope.conversation, payload]))
    .digest()
    .subarray(0, MAC_BYTES);
}

/** The signed form of `value` for a card sent at `sentAtMs` to `scope`. Pure but for the nonce. */
export function signButtonValue(
  key: Uint8Array,
  scope: ButtonScope,
  value: string,
  sentAtMs: number,
): string {
  const nonce = randomBytes(9).toString('base64url');
  const payload = Buffer.from(JSON.stringify([value, nonce, Math.floor(sentAtMs / 1000)])).toString(
    'base64url',
  );
  return `${PREFIX}${payload}.${macOf(key, scope, payload).toString('base64url')}`;
}

/** Whether a pressed value claims to be a signed one. */
export function isSignedButtonValue(value: string): boolean {
  return value.startsWith(PREFIX);
}

/**
 * The value a signed press carries, if its MAC holds for `scope` and it is younger than `ttlMs` at
 * `nowMs`; else why not. Pure.
 */
export function openButtonValue(
  key: Uint8Array,
  scope: ButtonScope,
  signed: string,
  nowMs: number,
  ttlMs: number,
): { value: string; nonce: string } | { problem: ButtonProblem } {
  if (!isSignedButtonValue(signed)) return { problem: 'unsigned' };
  const [payload, mac, ...rest] = signed.slice(PREFIX.length).split('.');
  if (!payload || !mac || rest.length > 0) return { problem: 'malformed' };
  const given = Buffer.from(mac, 'base64url');
  const expected = macOf(key, scope, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'bad-mac' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'malformed' };
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 3 ||
    typeof decoded[0] !== 'string' ||
    typeof decoded[1] !== 'string' ||
    !Number.isInteger(decoded[2])
  ) {
    return { problem: 'malformed' };
  }
  const [value, nonce, sentAtSeconds] = decoded as [string, string, number];
  if (nowMs - sentAtSeconds * 1000 > ttlMs) return { problem: 'expired' };
  return { value, nonce };
}

/** How a client's cards carry their buttons: `'signed'` (the default) or `'raw'` values. */
export type ButtonMode = 'signed' | 'raw';

/** Where a signer's key comes from: the app's secret, derived when first needed; undefined for raw buttons. */
export type ButtonKeySource = () => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/**
 * A platform's signer: signs the `message` buttons of every card the platform sends, and opens the
 * presses the receivers get. Without a key (a client that holds no secret) or in `'raw'` mode,
 * values go out and come back as they are. The key is derived from the secret in force on each use,
 * so a secret given as a function may change.
 */
export class ButtonSigner {
  readonly #key: ButtonKeySource | undefined;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(
    key: Uint8Array | ButtonKeySource | undefined,
    options: { now?: () => number; ttlMs?: number } = {},
  ) {
    this.#key = key instanceof Uint8Array ? () => key : key;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? BUTTON_TTL_MS;
  }

  /** `message` as sent to `target`: a card's `message` buttons signed for that conversation. */
  async sign<M extends RichMessage>(target: ReplyTarget, message: M): Promise<M> {
    if (message.type !== 'card' || !message.buttons.some((b) => b.type === 'message')) return message;
    const key = await this.#key?.();
    if (!key) return message;
    const scope = scopeOfTarget(target);
    const now = this.#now();
    const buttons = message.buttons.map((button) =>
      button.type === 'message'
        ? { ...button, value: signButtonValue(key, scope, button.value, now) }
        : button,
    );
    return { ...message, buttons };
  }

  /**
   * The value a press in `message` carries, checked: its original value, or a
   * `ButtonPressRefusedError`. Raw buttons come back as they are.
   */
  async open(
    message: InboundMessage & { action: { value: string } },
  ): Promise<string | ButtonPressRefusedError> {
    const key = await this.#key?.();
    if (!key) return message.action.value;
    const opened = openButtonValue(
      key,
      scopeOfMessage(message),
      message.action.value,
      this.#now(),
      this.#ttlMs,
    );
    return 'problem' in opened ? new ButtonPressRefusedError(opened.problem) : opened.value;
  }
}
