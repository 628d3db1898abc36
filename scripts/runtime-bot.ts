/**
 * Runs an example bot in another runtime (Bun, Deno, workerd) as a child process of the Node test
 * that drives it against the emulator: the examples' tests share it. The runtime's binary comes from
 * the npm registry, as each example's devDependency; nothing here downloads anything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A bot running in its runtime: where its webhook listens, what it printed, and how to stop it. */
export interface RuntimeBot {
  /** The webhook's URL on 127.0.0.1. */
  url: string;
  /** Everything the runtime printed so far, stdout and stderr, for a failing test's message. */
  output(): string;
  /** SIGTERM, then waits for the process to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface RuntimeBotOptions {
  cwd: string;
  env: Record<string, string>;
  /** How the runtime says where it listens: the first group is the webhook's URL. */
  listening?: RegExp;
  /** Where it listens when it cannot say so itself (workerd): polled until it answers. */
  url?: string;
  /** How long it may take to start. Default 30 s. */
  startMs?: number;
}

/** A port free on 127.0.0.1 now, for a runtime that needs its port named up front. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `command args` and resolves once the bot listens; rejects with its output if it exits first. */
export async function startRuntimeBot(
  command: string,
  args: string[],
  options: RuntimeBotOptions,
): Promise<RuntimeBot> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bot: RuntimeBot = {
    url: options.url ?? '',
    output: () => output,
    stop: (graceMs = 5_000) => stopChild(child, exited, graceMs),
  };
  try {
    bot.url = await listening(child, exited, () => output, options);
  } catch (error) {
    await bot.stop(0);
    throw error;
  }
  return bot;
}

async function listening(
  child: ChildProcess,
  exited: Promise<void>,
  output: () => string,
  options: RuntimeBotOptions,
): Promise<string> {
  const deadline = performance.now() + (options.startMs ?? 30_000);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (performance.now() < deadline) {
    if (gone) throw new Error(`the runtime exited (${child.exitCode}) before listening:\n${output()}`);
    const said = options.listening?.exec(output())?.[1];
    if (said) return said;
    if (options.url && (await answers(options.url))) return options.url;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the runtime did not listen within ${options.startMs ?? 30_000} ms:\n${output()}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return true;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
