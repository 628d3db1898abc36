import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ButtonAction } from './postable.js';

/**
 * A card button's value as the adapter sends it: `imb1.<payload>.<mac>`, where the payload (base64url
 * JSON) holds the action id, its value and the card's nonce, and the MAC (HMAC-SHA256, 128 bits)
 * binds them to the conversation the card was sent to and the bot, under a key derived from the
 * app's secret. A press is honoured only if its MAC holds for the conversation it comes from and
 * the nonce names a card the adapter sent (and, where the client names it, that very message).
 */
const PREFIX = 'imb1.';
const MAC_BYTES = 16;

/** A fresh nonce for one card. */
export function cardNonce(): string {
  return randomBytes(12).toString('base64url');
}

/** What a press's MAC is bound to. */
export interface ActionScope {
  botId: string;
  /** The thread the card went to (a one-to-one chat with its user, or a group). */
  threadId: string;
  nonce: string;
}

function macOf(key: Uint8Array, scope: ActionScope, action: ButtonAction): Buffer {
  const bound = JSON.stringify([
    scope.botId,
    scope.threadId,
    scope.nonce,
    action.actionId,
    action.value ?? null,
  ]);
  return createHmac('sha256', key).update(bound).digest().subarray(0, MAC_BYTES);
}

/** The signed value of a button. */
export function signAction(key: Uint8Array, scope: ActionScope, action: ButtonAction): string {
  const payload = Buffer.from(JSON.stringify([action.actionId, action.value ?? null, scope.nonce])).toString(
    'base64url',
  );
  return `${PREFIX}${payload}.${macOf(key, scope, action).toString('base64url')}`;
}

/** Whether a pressed value claims to be one of the adapter's signed buttons. */
export function isSignedAction(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Why a press was refused. */
export type ActionProblem = 'malformed' | 'bad-mac' | 'unknown-card' | 'other-message';

/**
 * The action a pressed value carries, if its MAC holds for `scope` (the conversation the press came
 * from, and the bot); else the reason it does not. Pure: the card's nonce is checked by the caller.
 */
export function openAction(
  key: Uint8Array,
  where: Omit<ActionScope, 'nonce'>,
  value: string,
): { action: ButtonAction; nonce: string } | { problem: ActionProblem } {
  const [payload, mac, ...rest] = value.slice(PREFIX.length).split('.');
  if (!isSignedAction(value) || !payload || !mac || rest.length > 0) return { problem: 'malformed' };
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
    (decoded[1] !== null && typeof decoded[1] !== 'string') ||
    typeof decoded[2] !== 'string'
  ) {
    return { problem: 'malformed' };
  }
  const [actionId, actionValue, nonce] = decoded as [string, string | null, string];
  const action: ButtonAction = actionValue === null ? { actionId } : { actionId, value: actionValue };
  const expected = macOf(key, { ...where, nonce }, action);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'bad-mac' };
  return { action, nonce };
}
