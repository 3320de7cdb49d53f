/**
 * POST /checkout against the OpenAPI contract and the course's original page:
 * good requests are answered, bad input gets a 4xx {error:{code,message}} and
 * the process carries on.
 */
import http from 'node:http';
import net from 'node:net';
import { coursePageOrder, postCheckout, startSystem, type RunningSystem } from './support/system';

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

/** A raw request, so tests control headers exactly (fetch always adds a Content-Type to a string body). */
function rawPost(body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const url = new URL(`${system.baseUrl}/checkout`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let data = '';
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const expectError = (res: { status: number; body: any }, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
};

describe('accepted requests', () => {
  it("takes the course page's request: text/plain body, termsAccepted", async () => {
    const res = await postCheckout(system.baseUrl, coursePageOrder(), 'text/plain;charset=UTF-8');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('Order Approved');
    // The page calls result.suggestedBooks.map(...) on any 2xx.
    expect(Array.isArray(res.body.suggestedBooks)).toBe(true);
    expect(res.body.suggestedBooks.length).toBeGreaterThan(0);
  });

  it('takes a body with no Content-Type header at all', async () => {
    const res = await rawPost(JSON.stringify(coursePageOrder()));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('Order Approved');
  });

  it('takes the spec-shaped request: application/json, termsAndConditionsAccepted, every optional field', async () => {
    const { termsAccepted: _dropped, ...rest } = coursePageOrder();
    const res = await postCheckout(system.baseUrl, {
      ...rest,
      termsAndConditionsAccepted: true,
      discountCode: 'BOOKWORM',
      giftMessage: 'Enjoy!',
      notificationPreferences: ['email'],
      device: { type: 'Smartphone', model: 'Pixel', os: 'Android 15' },
      browser: { name: 'Chrome', version: '131' },
      appVersion: '3.0.0',
      screenResolution: '1080x2400',
      referrer: 'https://example.com',
      deviceLanguage: 'en-US',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'Order Approved', orderId: expect.any(String) });
    expect(res.body.suggestedBooks.length).toBeGreaterThan(0);
  });

  it('answers well-formed but invalid orders with a 200 rejection from the owning event', async () => {
    const blankName = await postCheckout(system.baseUrl, coursePageOrder({ user: { name: '  ', contact: 'a@b.co' } }));
    expect(blankName.status).toBe(200);
    expect(blankName.body.rejection).toMatchObject({ event: 'B', code: 'USER_NAME_MISSING' });
    const noTerms = await postCheckout(system.baseUrl, { ...coursePageOrder(), termsAccepted: undefined });
    expect(noTerms.body.rejection).toMatchObject({ event: 'B', code: 'TERMS_NOT_ACCEPTED' });
  });
});

describe('rejected input', () => {
  it.each([
    ['malformed JSON', '{"user": {', 'MALFORMED_JSON'],
    ['an empty body', '', 'EMPTY_BODY'],
    ['a JSON array', '[]', 'INVALID_REQUEST'],
    ['a JSON string', '"hello"', 'INVALID_REQUEST'],
    ['null', 'null', 'INVALID_REQUEST'],
  ])('%s → 400', async (_what, body, code) => {
    expectError(await rawPost(body, { 'content-type': 'application/json' }), 400, code);
  });

  it.each([
    ['quantity as a string', { items: [{ name: 'Dune', quantity: '2' }] }],
    ['quantity as a fraction', { items: [{ name: 'Dune', quantity: 1.5 }] }],
    ['quantity beyond int32', { items: [{ name: 'Dune', quantity: 1e12 }] }],
    ['items as an object', { items: { name: 'Dune', quantity: 1 } }],
    ['user as a string', { user: 'John' }],
    ['card number as a number', { creditCard: { number: 4111111111111111, expirationDate: '12/30', cvv: '123' } }],
    ['terms as a string', { termsAccepted: 'yes' }],
    ['a missing cart', { items: undefined }],
    ['a 10 kB name', { user: { name: 'x'.repeat(10_000), contact: 'a@b.co' } }],
  ])('%s → 400 INVALID_REQUEST', async (_what, change) => {
    const res = await postCheckout(system.baseUrl, coursePageOrder(change));
    expectError(res, 400, 'INVALID_REQUEST');
  });

  it('a body over 64 KiB → 413', async () => {
    const res = await rawPost(JSON.stringify(coursePageOrder({ userComment: 'x'.repeat(70 * 1024) })), { 'content-type': 'application/json' });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('prototype-pollution keys → 400', async () => {
    const res = await rawPost('{"user":{"name":"a","contact":"b"},"creditCard":{},"items":[],"__proto__":{"admin":true}}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toEqual(expect.any(String));
  });

  it('headers over 16 KiB → 431 in the same error shape', async () => {
    const url = new URL(system.baseUrl);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (c) => (data += c));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1.1 431 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) } });
  });

  it('unknown routes → 404 in the same error shape', async () => {
    const res = await fetch(`${system.baseUrl}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('the orchestrator is still healthy after all of that', async () => {
    expect((await fetch(`${system.baseUrl}/health`)).status).toBe(200);
    expect(system.records().some((r) => r.level === 'error')).toBe(false);
  });
});

describe('CORS', () => {
  it('answers a preflight from the web app origin (localhost on the web port, 8080 by default)', async () => {
    const webOrigin = `http://localhost:${new URL(system.webUrl).port}`;
    const res = await fetch(`${system.baseUrl}/checkout`, {
      method: 'OPTIONS',
      headers: { origin: webOrigin, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(webOrigin);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('does not grant other origins', async () => {
    const res = await fetch(`${system.baseUrl}/health`, { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
