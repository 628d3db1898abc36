import type { WebhookAnswer } from './answer.js';
import { type NodeRequestLike, readNodeRequest } from './body.js';
import type { MessageHandler } from './options.js';
import type { Receipt, WebhookPipeline } from './pipeline.js';

/** What the response object of Express, Restify or `node:http` offers. */
export interface NodeResponseLike {
  writeHead?: (status: number, headers: Record<string, string>) => unknown;
  end: (body?: string) => unknown;
  status?: (status: number) => unknown;
  send?: (body: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
}

/**
 * The `node:http` entry into a pipeline (Express, Restify, Fastify's raw objects): reads the body,
 * takes it through the pipeline, writes the answer. Resolves with the receipt once the answer is written.
 */
export async function receiveNodeRequest(
  pipeline: WebhookPipeline,
  req: NodeRequestLike,
  res: NodeResponseLike,
  onMessage?: MessageHandler,
): Promise<Receipt> {
  let receipt: Receipt;
  try {
    receipt = await pipeline.receive(await readNodeRequest(req, pipeline.bodyLimits), onMessage);
  } catch (error) {
    receipt = { answer: pipeline.refuse(error), handled: Promise.resolve() };
  }
  writeNodeAnswer(res, receipt.answer);
  return receipt;
}

/** Writes an answer with `writeHead`/`end`, or Restify's `status`/`send`. */
export function writeNodeAnswer(res: NodeResponseLike, answer: WebhookAnswer): void {
  if (typeof res.writeHead === 'function') {
    res.writeHead(answer.status, {
      ...answer.headers,
      'content-length': String(Buffer.byteLength(answer.body)),
    });
    res.end(answer.body);
    return;
  }
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader?.(name, value);
  res.status?.(answer.status);
  if (res.send) res.send(answer.body);
  else res.end(answer.body);
}
