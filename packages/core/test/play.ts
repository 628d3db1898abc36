import type { StreamFinish, StreamSession } from '../src/index.js';

/** Writes `[text, pauseMs]` pairs into `session`, pausing after each, then ends it. */
export async function play(
  session: StreamSession,
  writes: [string, number][],
): Promise<{ result: StreamFinish; finishes: StreamFinish[]; written: string }> {
  const finishes: StreamFinish[] = [];
  session.on('finish', (r) => finishes.push(r));
  for (const [text, pause] of writes) {
    session.write(text);
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  const result = await session.end();
  // Let a second `finish`, if there were one, fire before it is counted.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return { result, finishes, written: writes.map(([text]) => text).join('') };
}
