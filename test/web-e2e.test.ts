/**
 * The web app end to end, in a real browser (Debian's Chromium driven by
 * playwright-core) against the processes `npm start` runs. Screenshots go to
 * artifacts/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, startSystem, waitFor, type RunningSystem } from './support/system';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'artifacts', 'screenshots');

let system: RunningSystem;
let browser: Browser;
/** Requests the pages tried to make to anywhere but this machine (there must be none). */
const external: string[] = [];
/** What the web server's Content-Security-Policy blocked (there must be nothing: the app runs under it). */
const blocked: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH`);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '500' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

afterEach(() => {
  // Offline classrooms: no CDN scripts, fonts or beacons.
  expect(external).toEqual([]);
  expect(blocked).toEqual([]);
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (/Content[ -]Security[ -]Policy/i.test(message.text())) blocked.push(message.text());
  });
  // Offline by design: any request to a host other than this machine is a bug.
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  return page;
}

async function checkout(page: Page, contact: string, shot?: string): Promise<void> {
  await page.goto(system.webUrl);
  await page.getByRole('button', { name: 'Add The Hobbit to cart' }).click();
  if (shot) await page.screenshot({ path: path.join(SHOTS, shot) });
  await page.getByRole('link', { name: /Cart/ }).click();
  await page.getByLabel('Name').fill('John Doe');
  await page.getByLabel('E-mail or phone').fill(contact);
  await page.getByLabel('Street').fill('123 Main St');
  await page.getByLabel('City').fill('Springfield');
  await page.getByLabel('ZIP / postcode').fill('62701');
  await page.getByLabel('Country').fill('USA');
  await page.getByLabel('Card number').fill('4111 1111 1111 1111');
  await page.getByLabel('Expiry (MM/YY)').fill('12/30');
  await page.getByLabel('CVV').fill('123');
  await page.getByLabel('I accept the terms and conditions').check();
  await page.getByRole('button', { name: 'Place order' }).click();
}

describe('web app', () => {
  it('sells a book: approved, suggestions, and the causality view with the seed’s clocks', async () => {
    const page = await newPage();
    await checkout(page, 'john.doe@example.com', 'shop.png');
    await page.getByRole('heading', { name: 'Order approved' }).waitFor();
    const suggestions = page.getByTestId('suggestions').locator('li');
    expect(await suggestions.count()).toBeGreaterThan(0);
    expect(await page.getByTestId('suggestions').textContent()).not.toContain('The Hobbit');

    const labels: string[] = [];
    for (const event of ['A', 'B', 'D', 'C', 'E', 'F']) {
      const dot = page.getByTestId(`event-${event}`);
      expect(await dot.getAttribute('data-failed')).toBe('false');
      labels.push((await dot.textContent())!.trim());
    }
    expect(labels).toEqual(['A(1,0,0)', 'B(2,0,0)', 'D(2,1,0)', 'C(3,1,0)', 'E(3,2,0)', 'F(3,2,1)']);
    for (const arrow of ['B-D', 'D-C', 'C-E', 'E-F']) expect(await page.getByTestId(`arrow-${arrow}`).count()).toBe(1);
    expect(await page.getByTestId('jaeger-link').getAttribute('href')).toMatch(/^http:\/\/localhost:16686\/trace\/[0-9a-f]{32}$/);

    // The executor cluster runs the order, and the page follows it.
    await page.getByText(/was executed by executor-\d/).waitFor({ timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'order-approved.png'), fullPage: true });
    await page.close();
  });

  it('shows a rejected order with its reason, tied to the failing event', async () => {
    const page = await newPage();
    await checkout(page, 'someone@mailinator.com');
    await page.getByRole('heading', { name: 'Order rejected' }).waitFor();
    const reason = await page.getByTestId('rejection').textContent();
    expect(reason).toContain('disposable e-mail');
    expect(reason).toContain('event D');
    expect(reason).toContain('USER_DISPOSABLE_EMAIL');
    expect(await page.getByTestId('event-D').getAttribute('data-failed')).toBe('true');
    expect(await page.getByTestId('event-C').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'order-rejected.png'), fullPage: true });
    await page.close();
  });

  it('catches form mistakes in the browser before the server sees them', async () => {
    const page = await newPage();
    await page.goto(`${system.webUrl}/#/checkout`);
    await page.getByRole('button', { name: 'Place order' }).click();
    expect(await page.getByText('Your cart is empty.').count()).toBeGreaterThan(0);
    expect(await page.getByText('This card number is not valid.').count()).toBe(1);
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await page.close();
  });

  it('shows the cluster with exactly one leader, and a new leader in a higher term after "kill leader"', async () => {
    const page = await newPage();
    await page.goto(`${system.webUrl}/#/cluster`);
    await waitFor('one leader on the page', async () => ((await page.locator('[data-role="leader"]').count()) === 1 ? true : undefined));
    const before = Number(await page.getByTestId('leader-term').textContent());
    const leaderBefore = await page.locator('[data-role="leader"] h2').textContent();
    await page.screenshot({ path: path.join(SHOTS, 'cluster.png'), fullPage: true });

    await page.getByRole('button', { name: 'Kill leader' }).click();
    await page.getByText(/Killed executor-\d/).waitFor();
    const after = await waitFor(
      'a new leader in a higher term',
      async () => {
        if ((await page.locator('[data-role="leader"]').count()) !== 1) return undefined;
        const term = Number(await page.getByTestId('leader-term').textContent());
        return term > before ? term : undefined;
      },
      20000,
    );
    expect(after).toBeGreaterThan(before);
    expect(await page.getByTestId('timeline').locator('li').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(SHOTS, 'cluster-after-kill.png'), fullPage: true });
    expect(leaderBefore).toMatch(/^executor-\d$/);
    await page.close();
  });
});
