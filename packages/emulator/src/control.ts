import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import {
  ClientRefused,
  createGroupInput,
  type EmulatedCloud,
  userPressesInput,
  userSendsInput,
  userSendsToGroupInput,
} from './cloud.js';
import { type Faults, faultConfig, faultKind } from './faults.js';
import { BodyTooLarge, readBody, sendJson, sendTooLarge } from './http.js';
import type { RongCloudEmulator } from './rongcloud/emulator.js';
import type { TencentEmulator } from './tencent/emulator.js';

export interface ControlTargets {
  tencent: TencentEmulator;
  rongcloud: RongCloudEmulator;
  faults: Faults;
  reset(): void;
}

type Route = (input: { url: URL; body: unknown }, targets: ControlTargets) => unknown | Promise<unknown>;

const required = (url: URL, name: string): string => {
  const value = url.searchParams.get(name);
  if (!value)
    throw new z.ZodError([
      { code: 'custom', path: [name], message: 'query parameter is required', input: undefined },
    ]);
  return value;
};

/**
 * The control API under `/_emulator/`: what the JS API offers, as JSON over HTTP, for people with
 * curl and for the web console. Every route answers JSON; bad input gets 400 with the reason.
 */
const originFailure = z.object({
  origin: z.enum(['primary', 'backup']),
  failure: z.enum(['reset', 'http-503']).nullable(),
});

const routes: Record<string, Route> = {
  'GET /_emulator/health': () => ({ ok: true }),
  'POST /_emulator/reset': (_, t) => {
    t.reset();
    return { ok: true };
  },
  'GET /_emulator/tencent/robots': (_, t) => t.tencent.robots(),
  'PUT /_emulator/tencent/callback': ({ body }, t) => {
    const { url, token } = z.object({ url: z.url().nullable(), token: z.string().optional() }).parse(body);
    t.tencent.setCallback(url ?? undefined, token);
    return { ok: true };
  },
  'PUT /_emulator/tencent/origins': ({ body }, t) => {
    const { origin, failure } = originFailure.parse(body);
    t.tencent.failOrigin(origin, failure);
    return { ok: true };
  },
  'PUT /_emulator/rongcloud/origins': ({ body }, t) => {
    const { origin, failure } = originFailure.parse(body);
    t.rongcloud.failOrigin(origin, failure);
    return { ok: true };
  },
  'PUT /_emulator/rongcloud/routing': ({ body }, t) => {
    const { url, serverApi } = z
      .object({ url: z.url().nullable(), serverApi: z.boolean().optional() })
      .parse(body);
    t.rongcloud.setMessageRouting(url === null ? undefined : { url, serverApi });
    return { ok: true };
  },
  'GET /_emulator/faults': (_, t) => t.faults.config,
  'PUT /_emulator/faults': ({ body }, t) => {
    t.faults.configure(faultConfig.parse(body));
    return t.faults.config;
  },
  'POST /_emulator/faults/next': ({ body }, t) => {
    const { api, count, fault } = z
      .strictObject({
        api: z.string().min(1),
        count: z.number().int().positive().default(1),
        fault: faultKind.optional(),
      })
      .parse(body);
    t.faults.failNext(api, count, fault);
    return { ok: true };
  },
};

/** A TUIKit client's AI-robot message: who sends it, to which robot, and its `Data`. */
const chatbotInput = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  data: z
    .record(z.string(), z.unknown())
    .refine((d) => typeof d.chatbotPlugin === 'number', 'needs a numeric chatbotPlugin'),
});

/** Routes every cloud has, under `/_emulator/<cloud>/`. */
const cloudRoutes: Record<string, (input: { url: URL; body: unknown }, cloud: EmulatedCloud) => unknown> = {
  'GET bots': (_, c) => c.bots(),
  'GET conversations': (_, c) =>
    c.state.conversations().map((conversation) => ({
      ...(conversation.participants
        ? { participants: conversation.participants }
        : { groupId: conversation.groupId }),
      messages: conversation.messages.length,
      last: conversation.messages.at(-1)?.text ?? '',
    })),
  'GET conversation': ({ url }, c) => c.conversation(required(url, 'user'), required(url, 'with')),
  'GET group': ({ url }, c) => c.groupConversation(required(url, 'id')),
  'POST messages': ({ body }, c) => c.userSends(userSendsInput.parse(body)),
  'POST group-messages': ({ body }, c) => c.userSendsToGroup(userSendsToGroupInput.parse(body)),
  'GET groups': (_, c) => c.groups(),
  'POST groups': ({ body }, c) => c.createGroup(createGroupInput.parse(body)),
  'POST presses': ({ body }, c) => c.userPresses(userPressesInput.parse(body)),
  // TUIKit's AI-robot messages (Stop, greeting): only Tencent's clients send them.
  'POST chatbot': ({ body }, c) => {
    if (!('userSendsChatbot' in c))
      throw new ClientRefused("only Tencent's TUIKit sends chatbotPlugin messages");
    return (c as TencentEmulator).userSendsChatbot(chatbotInput.parse(body));
  },
  'GET calls': ({ url }, c) => {
    const api = url.searchParams.get('api');
    const limit = Number(url.searchParams.get('limit') ?? 200);
    return c
      .calls()
      .filter((call) => !api || call.api === api)
      .slice(-limit);
  },
  'GET callbacks': (_, c) => c.callbacks(),
  'GET rate': (_, c) => c.rate(),
  'GET traffic': (_, c) => c.traffic(),
};

function findRoute(method: string | undefined, path: string): Route | undefined {
  const exact = routes[`${method} ${path}`];
  if (exact) return exact;
  const match = /^\/_emulator\/(tencent|rongcloud)\/([a-z-]+)$/.exec(path);
  const route = match && cloudRoutes[`${method} ${match[2]}`];
  if (!match || !route) return undefined;
  return (input, targets) => route(input, match[1] === 'tencent' ? targets.tencent : targets.rongcloud);
}

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  targets: ControlTargets,
): Promise<void> {
  const route = findRoute(req.method, url.pathname);
  if (!route) return sendJson(res, 404, { error: `no control route ${req.method} ${url.pathname}` });
  let body: unknown;
  let text: string;
  try {
    text = await readBody(req, 64 * 1024);
  } catch (error) {
    if (error instanceof BodyTooLarge) return sendTooLarge(res, error);
    throw error;
  }
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return sendJson(res, 400, { error: 'the body is not JSON' });
  }
  try {
    sendJson(res, 200, await route({ url, body }, targets));
  } catch (error) {
    if (error instanceof ClientRefused) return sendJson(res, 400, { error: error.message });
    if (error instanceof z.ZodError) {
      // Every problem at once, so that a misspelt field is named beside the one it stands for.
      const reasons = error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
      return sendJson(res, 400, { error: reasons.join('; ') });
    }
    throw error;
  }
}
