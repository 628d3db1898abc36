import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { sendText } from './http.js';

/** The console's files: plain HTML, CSS and a script, shipped as they are, no build step. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  // Browsers ask for it whatever the page says.
  '/favicon.ico': { file: 'favicon.svg', type: 'image/svg+xml' },
};

const root = new URL('../console/', import.meta.url);

/** Serves the web console's files; false when `path` is not one of them. */
export async function serveConsole(path: string, res: ServerResponse): Promise<boolean> {
  const entry = FILES[path];
  if (!entry) return false;
  sendText(res, 200, await readFile(new URL(entry.file, root), 'utf8'), entry.type);
  return true;
}
