import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** What a newcomer reading the READMEs stumbled on, kept from coming back. */

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');

describe('the READMEs, as a newcomer reads them', () => {
  it('say, wherever they say npm install @imbot/…, how to get the packages while no registry serves them', () => {
    const packages = readdirSync(`${root}packages`)
      .map((name) => [name, readFileSync(`${root}packages/${name}/README.md`, 'utf8')] as const)
      .filter(([, text]) => /npm install @imbot\//.test(text));
    expect(packages.length).toBeGreaterThan(0);
    for (const [name, text] of packages) {
      expect(text, name).toMatch(/not on the npm registry yet/);
      expect(text, name).toContain('npm run starter -- ../my-bot');
    }
  });

  it("give the root README's Express app its imports, its webhook's full path and the emulator flags that reach it", () => {
    const app = readme.slice(readme.indexOf('answer users from an Express app'));
    for (const line of [
      "import { TencentIm } from '@imbot/core';",
      "import { imbot } from '@imbot/express-middleware';",
      "import express from 'express';",
      '/im/webhook',
      'npx imbot-emulator --callback-url http://127.0.0.1:3000/im/webhook --callback-token my-callback-token',
    ])
      expect(app).toContain(line);
    expect(readme).not.toContain("console's callback token");
  });

  it('state no count of tests, which goes stale', () => {
    expect(readme).not.toMatch(/\b\d{3,} tests\b/);
  });
});
