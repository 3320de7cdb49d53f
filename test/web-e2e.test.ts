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

const ADMIN_TOKEN = 'web-e2e-test-admin-token';

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
  system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '500', CAUSEWAY_ADMIN_TOKEN: ADMIN_TOKEN });
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

/** The admin endpoint, as an operator would call it (curl-like: no Origin). */
async function setStock(bookId: string, stock: number): Promise<void> {
  const res = await fetch(`${system.baseUrl}/books/${bookId}/stock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ stock }),
  });
  expect(res.status).toBe(200);
}

/** The shop's card of one book. */
const bookCard = (page: Page, title: string) => page.getByTestId('book').filter({ has: page.getByRole('heading', { name: title, exact: true }) });

/**
 * One copy of a book into an empty cart, once the shop shows its price and stock: a click while the cards
 * re-render around it could land beside the button (a CI run lost one so), and the button must then say so.
 */
async function addToCart(page: Page, title: string): Promise<void> {
  await bookCard(page, title).getByTestId('price').waitFor();
  await page.getByRole('button', { name: `Add ${title} to cart` }).click();
  await page.getByRole('button', { name: `Add ${title} to cart` }).getByText('In cart (1)').waitFor({ timeout: 5000 });
}

async function checkout(page: Page, contact: string, shot?: string): Promise<void> {
  await page.goto(system.webUrl);
  await addToCart(page, 'The Hobbit');
  if (shot) await page.screenshot({ path: path.join(SHOTS, shot) });
  await fillAndPlace(page, contact);
}

/** From the shop: to the cart, the form filled in, the order placed. */
async function fillAndPlace(page: Page, contact: string, card = '4111 1111 1111 1111'): Promise<void> {
  await page.getByRole('link', { name: /Cart/ }).click();
  await page.getByLabel('Name').fill('John Doe');
  await page.getByLabel('E-mail or phone').fill(contact);
  await page.getByLabel('Street').fill('123 Main St');
  await page.getByLabel('City').fill('Springfield');
  await page.getByLabel('ZIP / postcode').fill('62701');
  await page.getByLabel('Country').fill('USA');
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry (MM/YY)').fill('12/30');
  await page.getByLabel('CVV').fill('123');
  await page.getByLabel('I accept the terms and conditions').check();
  await page.getByRole('button', { name: 'Place order' }).click();
}

/**
 * Waits for the order's outcome heading. If it never shows, the error says what the page showed instead (its text,
 * and a screenshot in artifacts/screenshots/), so that a failure on a clean clone can be told apart from a slow one.
 */
async function outcome(page: Page, heading: 'Order approved' | 'Order rejected'): Promise<void> {
  try {
    await page.getByRole('heading', { name: heading }).waitFor();
  } catch (err) {
    const shot = path.join(SHOTS, `failed-${heading.replace(' ', '-').toLowerCase()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    const text = (await page.locator('body').innerText().catch(() => '(page text unreadable)')).replace(/\s+/g, ' ').slice(0, 1500);
    throw new Error(`"${heading}" never showed (${(err as Error).message.split('\n')[0]}); the page at ${page.url()} showed: ${text} (screenshot: ${shot})`);
  }
}

describe('web app', () => {
  it('sells a book: approved, suggestions, and the causality view with the seed’s clocks', async () => {
    const page = await newPage();
    await checkout(page, 'john.doe@example.com', 'shop.png');
    await outcome(page, 'Order approved');
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

    // Beside the causality diagram, the commit timeline: it follows the commit until both participants acknowledge.
    const commit = page.locator('[data-testid="commit"][data-finished="true"]');
    await commit.waitFor({ timeout: 15000 });
    expect(await commit.getAttribute('data-decision')).toBe('commit');
    expect(await page.getByTestId('commit-decision').textContent()).toBe('commit');
    expect(await page.getByTestId('commit-participant-books-database').textContent()).toBe('committed');
    expect(await page.getByTestId('commit-participant-payment').textContent()).toBe('captured');
    expect(await page.getByTestId('payment-status').textContent()).toBe('captured');
    const steps = page.getByTestId('commit-timeline').locator('li');
    expect(await steps.count()).toBe(6);
    const at = (await steps.locator('time').allTextContents()).map((t) => Number(/^\+(\d+) ms$/.exec(t.trim())![1]));
    expect(at[0]).toBe(0);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(await steps.first().getAttribute('data-step')).toBe('prepare');
    expect(await page.getByTestId('commit-timeline').textContent()).toMatch(/payment voted YES[\s\S]*Decision: commit, logged by executor-\d/);
    const orderId = (await page.locator('.banner code').first().textContent())!;
    const traceLinks = await page.getByTestId('commit-trace-link').evaluateAll((links) => links.map((l) => l.getAttribute('href')));
    expect(traceLinks.some((href) => href!.startsWith('http://localhost:16686/search?') && decodeURIComponent(href!).includes(`"order.id":"${orderId}"`))).toBe(true);
    expect(traceLinks).toContain(await page.getByTestId('jaeger-link').getAttribute('href'));
    await page.screenshot({ path: path.join(SHOTS, 'order-approved.png'), fullPage: true });
    await page.close();
  });

  it('shows a rejected order with its reason, tied to the failing event', async () => {
    const page = await newPage();
    await checkout(page, 'someone@mailinator.com');
    await outcome(page, 'Order rejected');
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

  it('shows each book\'s price and stock, the cart total, and stock changes without a reload', async () => {
    const page = await newPage();
    await page.goto(system.webUrl);
    const emma = bookCard(page, 'Emma');
    await waitFor('Emma priced', async () => ((await emma.getByTestId('price').count()) === 1 ? true : undefined));
    expect(await emma.getByTestId('price').textContent()).toBe('$10.99');
    expect(await emma.getByTestId('stock').textContent()).toBe('12 left');
    await page.getByRole('button', { name: 'Add Emma to cart' }).click();
    await page.getByRole('button', { name: 'Add Emma to cart' }).click();
    await page.getByRole('button', { name: 'Add Dune to cart' }).click();
    // 2 × $10.99 + $11.99
    expect(await page.getByTestId('cart-total').textContent()).toContain('Cart: 3 books, $33.97.');
    await page.screenshot({ path: path.join(SHOTS, 'shop-stock.png') });

    // The stock changes in the database: the open page shows it within a poll, and will not sell what is not there.
    await setStock('bk-019', 0);
    await bookCard(page, 'Emma').getByText('out of stock').waitFor({ timeout: 10000 });
    expect(await page.getByRole('button', { name: 'Add Emma to cart' }).isDisabled()).toBe(true);
    await setStock('bk-019', 3);
    await bookCard(page, 'Emma').getByText('3 left').waitFor({ timeout: 10000 });
    expect(await page.getByRole('button', { name: 'Add Emma to cart' }).isEnabled()).toBe(true);
    await page.close();
  });

  it('shows an order that failed for lack of stock, and why', async () => {
    const page = await newPage();
    await page.goto(system.webUrl);
    await addToCart(page, 'The Silmarillion');
    // Someone else buys the last copies while this customer fills in the form.
    await setStock('bk-003', 0);
    await fillAndPlace(page, 'late.customer@example.com');
    await page.getByRole('heading', { name: 'Order failed' }).waitFor({ timeout: 20000 });
    const why = await page.getByTestId('failure').textContent();
    expect(why).toContain('not enough copies of "The Silmarillion" in stock');
    expect(why).toContain('OUT_OF_STOCK');
    await page.screenshot({ path: path.join(SHOTS, 'order-failed.png'), fullPage: true });
    await page.close();
  });

  it('shows an order paid with a declined card as failed PAYMENT_DECLINED, with its aborted commit', async () => {
    const page = await newPage();
    await page.goto(system.webUrl);
    await addToCart(page, 'The Hobbit');
    await fillAndPlace(page, 'declined.card@example.com', '4000 0000 0000 0002');
    await page.getByRole('heading', { name: 'Order failed' }).waitFor({ timeout: 20000 });
    const why = await page.getByTestId('failure').textContent();
    expect(why).toContain('PAYMENT_DECLINED');
    expect(why).toContain('nothing was charged');
    const commit = page.locator('[data-testid="commit"][data-finished="true"]');
    await commit.waitFor({ timeout: 15000 });
    expect(await commit.getAttribute('data-decision')).toBe('abort');
    expect(await page.getByTestId('commit-participant-books-database').textContent()).toBe('aborted');
    expect(['declined', 'voided']).toContain(await page.getByTestId('payment-status').textContent());
    expect(await page.getByTestId('commit-timeline').textContent()).toContain('payment voted PAYMENT_DECLINED');
    await page.screenshot({ path: path.join(SHOTS, 'order-declined.png'), fullPage: true });
    await page.close();
  });

  it('shows the cluster with exactly one leader, and a new leader in a higher term after "kill leader"', async () => {
    const page = await newPage();
    await page.goto(`${system.webUrl}/#/cluster`);
    await waitFor('one executor leader on the page', async () =>
      (await page.locator('[data-testid^="executor-"][data-role="leader"]').count()) === 1 ? true : undefined,
    );
    // The books database's replicas beside the executors, one of them leading.
    await waitFor('one database leader on the page', async () =>
      (await page.locator('[data-testid^="replica-books-"][data-role="leader"]').count()) === 1 ? true : undefined,
    );
    expect(await page.locator('[data-testid^="replica-books-"]').count()).toBe(3);
    // Two-phase commits in flight, at the executor leader and prepared at the database (numbers, once polled).
    await waitFor('the in-flight transaction counts', async () =>
      /^\d+$/.test((await page.getByTestId('transactions-coordinating').textContent()) ?? '') &&
      /^\d+$/.test((await page.getByTestId('transactions-prepared').textContent()) ?? '')
        ? true
        : undefined,
    );
    const before = Number(await page.getByTestId('leader-term').textContent());
    const leaderBefore = await page.locator('[data-testid^="executor-"][data-role="leader"] h2').textContent();
    await page.screenshot({ path: path.join(SHOTS, 'cluster.png'), fullPage: true });

    await page.getByRole('button', { name: 'Kill leader', exact: true }).click();
    await page.getByText(/Killed executor-\d/).waitFor();
    // The leader named on the page and the newest entry of its timeline, read from the DOM in one go.
    // (A string, run in the page: this file is compiled without the DOM's types.)
    const readLeader = () =>
      page.evaluate(`({
        shown: document.querySelector('[data-testid="leader"]')?.textContent ?? '',
        newest: document.querySelector('[data-testid="timeline"] li')?.textContent ?? '',
        entries: document.querySelectorAll('[data-testid="timeline"] li').length,
      })`) as Promise<{ shown: string; newest: string; entries: number }>;
    const after = await waitFor(
      'a new leader in a higher term',
      async () => {
        if ((await page.locator('[data-testid^="executor-"][data-role="leader"]').count()) !== 1) return undefined;
        const seen = await readLeader();
        const [, id, term] = /Leader: (executor-\d) in term (\d+)/.exec(seen.shown) ?? [];
        return id && Number(term) > before ? { id, term: Number(term), ...seen } : undefined;
      },
      20000,
    );
    expect(after.term).toBeGreaterThan(before);
    // The moment the page names the new leader, its timeline has it too: the snapshot that brought it feeds the
    // timeline as well as the stream's 'leader' event, whichever comes first.
    expect(after.newest).toContain(`${after.id} leads term ${after.term}`);
    expect(after.entries).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(SHOTS, 'cluster-after-kill.png'), fullPage: true });
    expect(leaderBefore).toMatch(/^executor-\d$/);

    // The database's leader, killed from the same page: another replica takes over.
    const booksLeaderBefore = await page.locator('[data-testid^="replica-books-"][data-role="leader"] h2').textContent();
    await page.getByRole('button', { name: 'Kill database leader' }).click();
    await page.getByText(/Killed books-\d/).waitFor();
    await waitFor(
      'another replica leading the database',
      async () => {
        const leaders = page.locator('[data-testid^="replica-books-"][data-role="leader"] h2');
        return (await leaders.count()) === 1 && (await leaders.textContent()) !== booksLeaderBefore ? true : undefined;
      },
      20000,
    );
    await page.screenshot({ path: path.join(SHOTS, 'cluster-after-database-kill.png'), fullPage: true });
    await page.close();
  });
});
