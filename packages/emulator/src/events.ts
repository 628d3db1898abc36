import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Message, TypingStatus } from './chat-state.js';
import type { EmulatedCloud } from './cloud.js';

/**
 * `GET /_emulator/events`: server-sent events for the console. Every new or changed message of either
 * cloud (`message`, with `{ cloud, message }`), every change of the bots (`bots`, with `{ cloud }`)
 * and of the groups (`groups`, with `{ cloud }`) is pushed as it happens, so a streamed reply can be watched as it grows.
 */
export function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  clouds: Record<string, EmulatedCloud>,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('hello', { clouds: Object.keys(clouds) });
  const off: (() => void)[] = [];
  for (const [cloud, emulated] of Object.entries(clouds)) {
    const onMessage = (message: Message) => send('message', { cloud, message });
    const onBots = () => send('bots', { cloud });
    const onGroups = () => send('groups', { cloud });
    const onTyping = (status: TypingStatus) => send('typing', { cloud, status });
    emulated.state.on('typing', onTyping);
    emulated.state.on('message', onMessage);
    emulated.state.on('update', onMessage);
    emulated.state.on('robots', onBots);
    emulated.state.on('groups', onGroups);
    off.push(() => {
      emulated.state.off('message', onMessage);
      emulated.state.off('update', onMessage);
      emulated.state.off('robots', onBots);
      emulated.state.off('groups', onGroups);
      emulated.state.off('typing', onTyping);
    });
  }
  // A comment now and then keeps proxies from closing an idle stream.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    for (const stop of off) stop();
  });
}
