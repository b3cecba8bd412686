/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser tests: whether it is installed,
 * a headless persistent context on a temp profile, and a table row read as header -> cell text.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Locator } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** false, or why the browser tests skip. */
export const CHROMIUM_MISSING: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} does not exist: the dashboard browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it)`;

export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
}

/** The row's cells under the columns asked about, keyed by header text (sort marks stripped). */
export async function cellsOf(row: Locator, wanted: readonly string[]): Promise<Record<string, string>> {
  const table = row.locator('xpath=ancestor::table');
  const headers = (await table.locator('thead th').allTextContents()).map((h) => h.replace(/[▲▼]/g, '').trim());
  const values = await row.locator('td').allTextContents();
  return Object.fromEntries(wanted.map((name) => [name, values[headers.indexOf(name)] ?? '']));
}
