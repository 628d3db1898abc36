/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
// The functions given to page.evaluate run in the browser.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TencentIm } from '@imbot/core';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_ID } from '../src/bot.js';
import { DEMO_TENCENT_APP, type Demo, startDemo } from '../src/index.js';

/** Debian's Chromium (`apt-get install chromium`), or wherever CHROMIUM_PATH points. */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
// CI installs Chromium, so there the test must run (CI set to anything but '', '0' or 'false', as
// CI services spell it); elsewhere it is skipped when none is found.
const ci = (process.env.CI ?? '').trim().toLowerCase();
const required = ci !== '' && ci !== '0' && ci !== 'false';
const output = fileURLToPath(new URL('../../../test-output/', import.meta.url));

describe.skipIf(!available && !required)('the web console, in headless Chromium', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    expect(
      available,
      `no Chromium at ${executablePath}: install Debian's chromium or set CHROMIUM_PATH`,
    ).toBe(true);
    demo = await startDemo({ cloud: 'tencent' });
    browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('sends a message, shows the reply streaming in, and ends it finished', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(demo.consoleUrl);
    await page.waitForSelector('#bots button');
    await expect.poll(() => page.textContent('#chat-title')).toContain('imbot demo');
    // Record every text the bot's reply shows, as the page renders it.
    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { renders: Set<string> }).renders = seen;
      new MutationObserver(() => {
        for (const item of document.querySelectorAll('#messages li.theirs[data-state="streaming"] .body')) {
          seen.add(item.textContent ?? '');
        }
      }).observe(document.querySelector('#messages') as Node, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await page.fill('#text', 'hello from the browser');
    await page.click('#send');
    const finished = page.locator('#messages li.theirs[data-state="finished"]');
    await finished.waitFor({ timeout: 20_000 });
    const renders = await page.evaluate(() => (window as unknown as { renders: Set<string> }).renders.size);
    expect(renders).toBeGreaterThanOrEqual(3);
    expect(await finished.locator('.body').textContent()).toContain('You said "hello from the browser"');
    expect(await page.locator('#messages li.mine').first().textContent()).toContain('hello from the browser');
    expect(await page.locator('#calls li').count()).toBeGreaterThan(0);
    // Every header of the REST-call table fits its column at 1,280 px: none runs into the next.
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll('#rate th')]
        .filter((th) => th.scrollWidth > th.clientWidth)
        .map((th) => th.textContent),
    );
    expect(overflowing).toEqual([]);
    // The live chart: the dashed budget line at the cloud's limit per API, the streaming API's calls
    // per second under it, and the stream latency of the reply.
    await expect.poll(() => page.getAttribute('#traffic-calls line.limit', 'data-limit')).toBe('200');
    await expect
      .poll(() => page.locator('#traffic-calls .legend li').allTextContents())
      .toContainEqual(expect.stringMatching(/stream_msg: \d+\/s, peak [1-9]\d*\/s$/));
    const { limitY, highestY } = await page.evaluate(() => {
      const limit = document.querySelector('#traffic-calls line.limit') as Element;
      const ys = [...document.querySelectorAll('#traffic-calls polyline.api-line')].flatMap((line) =>
        (line.getAttribute('points') ?? '').split(' ').map((point) => Number(point.split(',')[1])),
      );
      return { limitY: Number(limit.getAttribute('y1')), highestY: Math.min(...ys) };
    });
    expect(highestY).toBeGreaterThan(limitY); // SVG's y grows downwards: every line stays under the limit
    await expect.poll(() => page.textContent('#traffic-latency')).toMatch(/worst [1-9]\d* ms/);
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: `${output}console.png` });
  }, 40_000);

  it('shows the bot typing until its first words, and a stop button that ends the streaming reply with what it showed', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(demo.consoleUrl);
    await page.waitForSelector('#bots button');
    await page.fill('#user', 'stopper');
    await page.dispatchEvent('#user', 'change');
    await page.fill('#text', 'tell me a long story');
    await page.click('#send');
    // The bot thinks first: its typing signal shows under the chat.
    await page.locator('#typing').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.textContent('#typing')).toBe('@RBT#demo is typing…');
    // Its first words end the typing, and the stop button shows while the reply streams.
    await page.locator('#messages li.theirs[data-state="streaming"]').waitFor({ timeout: 10_000 });
    await page.locator('#stop').waitFor({ state: 'visible' });
    await page.locator('#typing').waitFor({ state: 'hidden' });
    const streaming = page.locator('#messages li.theirs[data-state="streaming"] .body');
    await expect.poll(() => streaming.textContent(), { timeout: 10_000 }).toContain('tell me a long story');
    const shown = (await streaming.textContent()) ?? '';
    await page.click('#stop');
    const stopped = page.locator('#messages li.theirs[data-state="finished"]');
    await stopped.waitFor({ timeout: 5000 });
    const text = (await stopped.locator('.body').textContent()) ?? '';
    // What was shown stays, the marker follows, and the rest of the answer never comes.
    expect(text.startsWith(shown)).toBe(true);
    expect(text.endsWith(' (stopped)')).toBe(true);
    expect(text).not.toContain('Set OPENAI_BASE_URL');
    await page.locator('#stop').waitFor({ state: 'hidden' });
    // The stop went to the bot as the user's message, and reached no handler: no second answer.
    expect(await page.locator('#messages li.theirs').count()).toBe(1);
    await page.screenshot({ path: `${output}console-stop.png` });
  }, 40_000);

  it('shows a message the bot marked read, and a reply with the message it quotes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(demo.consoleUrl);
    await page.waitForSelector('#bots button');
    await page.fill('#user', 'reader');
    await page.dispatchEvent('#user', 'change');
    await page.fill('#text', 'menu');
    await page.click('#send');
    await page.locator('#messages li.theirs').first().waitFor({ timeout: 10_000 });
    // The bot marks it read and quotes it, through the cloud's own APIs, as an app would.
    const im = new TencentIm({ ...DEMO_TENCENT_APP, baseUrl: demo.emulator?.url as string });
    const asked = demo.emulator?.tencent.conversation('reader', BOT_ID).find((m) => m.from === 'reader');
    const target = { botId: BOT_ID, userId: 'reader' };
    await im.platform.markRead?.(target, asked?.msgKey as string);
    await im.platform.sendText(target, 'That is the menu above.', {
      quote: { messageId: asked?.msgKey as string, text: 'menu', from: 'reader' },
    });
    await im.close();
    await expect.poll(() => page.textContent('#messages li.mine .state')).toBe('delivered · read');
    const quote = page.locator('#messages li.theirs .quote');
    await quote.waitFor({ timeout: 5000 });
    expect(await quote.textContent()).toBe('menu');
    expect(await quote.getAttribute('data-from')).toBe('reader');
    await page.screenshot({ path: `${output}console-read-quote.png` });
  }, 40_000);

  it('shows a group with its members, a card the bot sends on an @-mention, and the answer to its button', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(demo.consoleUrl);
    await page.locator('#groups button', { hasText: 'team' }).click();
    await expect.poll(() => page.textContent('#chat-title')).toContain('Group team');
    // Members in join order, the bot marked as one.
    await expect
      .poll(() => page.locator('#member-list li').allTextContents())
      .toEqual(['you', 'alice', '@RBT#demo']);
    expect(await page.getAttribute('#member-list li:last-child', 'class')).toBe('bot');
    // The message @-mentions the bot (the picker's default) and asks for the menu.
    expect(await page.inputValue('#mention')).toBe('@RBT#demo');
    await page.fill('#text', 'menu');
    await page.click('#send');
    const card = page.locator('#messages li.theirs [data-testid="card"]');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('strong').textContent()).toBe('What can I show you?');
    // The card's message @-mentions the user who asked, marked as a mention of the reader.
    expect(await page.locator('#messages li.theirs').first().locator('mark.mention.me').textContent()).toBe(
      '@you',
    );
    expect(await page.locator('#messages li.mine').first().locator('mark.mention').textContent()).toBe(
      '@RBT#demo',
    );
    await card.locator('button', { hasText: 'How streaming works' }).click();
    const answer = page.locator('#messages li.theirs[data-state="finished"]').nth(1);
    await answer.waitFor({ timeout: 20_000 });
    expect(await answer.locator('.body').textContent()).toMatch(/^@you Streaming works like this: /);
    expect(await page.locator('#messages li.mine').nth(1).locator('.state').textContent()).toBe(
      'button pressed',
    );
    // A message that mentions no bot reaches none, and the console says why.
    await page.selectOption('#mention', '');
    await page.fill('#text', 'anyone there?');
    await page.click('#send');
    const unanswered = page.locator('#messages li.mine[data-state="unanswered"]');
    await unanswered.waitFor({ timeout: 10_000 });
    expect(await unanswered.locator('.state').textContent()).toBe(
      'reached no bot: mention a bot to get an answer',
    );
    await page.selectOption('#mention', '@RBT#demo');
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: `${output}console-group.png` });
  }, 40_000);

  it('opens on the RongCloud tab, with its bot, for a demo on RongCloud', async () => {
    const rongDemo = await startDemo({ cloud: 'rongcloud' });
    try {
      expect(rongDemo.consoleUrl).toMatch(/#rongcloud$/);
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await page.goto(rongDemo.consoleUrl);
      await page.waitForSelector('#bots button');
      expect(await page.getAttribute('#clouds button[data-cloud="rongcloud"]', 'aria-pressed')).toBe('true');
      await expect.poll(() => page.textContent('#chat-title')).toContain('RongCloud');
      expect(await page.textContent('#bots')).toContain('@RBT#demo');
    } finally {
      await rongDemo.close();
    }
  }, 30_000);
});
