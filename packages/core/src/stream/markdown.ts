/**
 * Markdown that renders while it grows: where a chunk of a streamed markdown message may end
 * without leaving a construct that shows broken until it closes (a table row, a link or image, an
 * inline code span, a fence's opening line), and how to close what is open before a message is
 * replaced whole. Pure functions; each costs time in proportion to the text it is given.
 */

/** What a stream's delivered text leaves open for what follows: a fenced block, and the current line's start. */
export interface MarkdownCursor {
  readonly inFence: boolean;
  /** The start of the line the delivered text ends in (its first `LINE_HEAD` characters). */
  readonly line: string;
}

/** Enough of a line's start to tell a fence or a table row. */
const LINE_HEAD = 16;

export const START_OF_MARKDOWN: MarkdownCursor = { inFence: false, line: '' };

const FENCE = /^ {0,3}(```|~~~)/;
const TABLE_ROW = /^ {0,3}\|/;
/** A line start that may still become a fence: up to three spaces and one or two fence characters. */
const FENCE_PREFIX = /^ {0,3}(`{1,2}|~{1,2})?$/;

/** The cursor after `text` is delivered: fences opened or closed by its complete lines. */
export function advanceMarkdown(cursor: MarkdownCursor, text: string): MarkdownCursor {
  let { inFence, line } = cursor;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const head = (line + text.slice(start, Math.min(nl, start + LINE_HEAD))).slice(0, LINE_HEAD);
    if (FENCE.test(head)) inFence = !inFence;
    line = '';
    start = nl + 1;
  }
  if (line.length < LINE_HEAD) line = (line + text.slice(start, start + LINE_HEAD)).slice(0, LINE_HEAD);
  return { inFence, line };
}

/**
 * Where a chunk that is `window` (what follows the delivered text at `cursor`) may end: its length
 * when nothing is left open, else the start of the open construct in its last line, which waits
 * for the text that closes it. Inside a fenced block nothing is held.
 */
export function markdownSafeEnd(window: string, cursor: MarkdownCursor): number {
  const lastNl = window.lastIndexOf('\n');
  const at = lastNl + 1;
  const before = lastNl < 0 ? cursor : advanceMarkdown(cursor, window.slice(0, at));
  if (before.inFence) return window.length;
  const line = window.slice(at);
  if (line === '') return window.length;
  const head = (before.line + line.slice(0, LINE_HEAD)).slice(0, LINE_HEAD);
  // A line that is, or may yet become, a fence's opening line or a table row waits for its end.
  if (FENCE.test(head) || FENCE_PREFIX.test(head) || TABLE_ROW.test(head)) return at;
  const open = openInline(line);
  return open < 0 ? window.length : at + open;
}

type LinkState = 'none' | 'text' | 'label-end' | 'destination';

/**
 * The index in `line` where an inline construct opens and does not close (an inline code span, a
 * link or an image, or a `!` at the very end that may open an image), or -1.
 */
function openInline(line: string): number {
  // `!`s at the end may open an image: held, with whatever the text before them leaves open (a
  // `[label]` that a `(` could still make a link, before a `!` that made it none).
  const bangs = /!+$/.exec(line);
  if (bangs) {
    const before = openInline(line.slice(0, bangs.index));
    return before >= 0 ? before : bangs.index;
  }
  let code = -1;
  let codeRun = 0;
  let link: LinkState = 'none';
  let linkStart = -1;
  for (let i = 0; i < line.length; ) {
    const c = line[i];
    if (c === '`') {
      let run = 1;
      while (line[i + run] === '`') run++;
      if (code < 0) {
        code = i;
        codeRun = run;
      } else if (run === codeRun) code = -1;
      i += run;
      continue;
    }
    if (code >= 0) {
      i++;
      continue;
    }
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (link === 'label-end') link = c === '(' ? 'destination' : 'none';
    else if (link === 'none' && c === '[') {
      link = 'text';
      linkStart = i > 0 && line[i - 1] === '!' ? i - 1 : i;
    } else if (link === 'text' && c === ']') link = 'label-end';
    else if (link === 'destination' && c === ')') link = 'none';
    i++;
  }
  const starts = [code, link === 'none' ? -1 : linkStart].filter((i) => i >= 0);
  if (starts.length === 0) return -1;
  // A `!` right before the hold would end the chunk where it may open an image: held with it.
  let start = Math.min(...starts);
  while (start > 0 && line[start - 1] === '!') start--;
  return start;
}

/**
 * `text` with what it leaves open closed, for a message replaced whole while it grows: an open
 * fenced block gets its closing fence, an open inline code span its backticks, and an odd `**`
 * its partner, so the client renders the snapshot as it will render the whole.
 */
export function closeMarkdown(text: string): string {
  const end = advanceMarkdown(START_OF_MARKDOWN, `${text}\n`);
  if (end.inFence) return `${text}${text.endsWith('\n') ? '' : '\n'}\`\`\``;
  const lastNl = text.lastIndexOf('\n');
  const line = text.slice(lastNl + 1);
  if (FENCE.test(line)) return text;
  let closed = text;
  const code = openInline(line);
  if (code >= 0 && line[code] === '`') {
    let run = 1;
    while (line[code + run] === '`') run++;
    closed += '`'.repeat(run);
  }
  const strong = (line.replace(/`+[^`]*`+/g, '').match(/\*\*/g) ?? []).length;
  if (strong % 2 === 1) closed += '**';
  return closed;
}
