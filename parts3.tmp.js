const h = require('/work/main/dist/launcher/harness.js');
const { createChannel, createClient } = require('nice-grpc');
const ex = require('/work/main/dist/gen/causeway/v1/order_executor.js');
const q = require('/work/main/dist/gen/causeway/v1/order_queue.js');
(async () => {
  const s = await h.startSystem({ FRAUD_CONTACT_VELOCITY_LIMIT: '100000000', FRAUD_CARD_VELOCITY_LIMIT: '100000000' });
  await new Promise(r => setTimeout(r, 12000));
  const time = async (name, fn, n = 100) => { const t = []; for (let i = 0; i < n; i++) { const a = performance.now(); await fn(i); t.push(performance.now() - a); } t.sort((a, b) => a - b); console.log(name.padEnd(24), 'p50', t[n >> 1].toFixed(2), 'p90', t[Math.floor(n * 0.9)].toFixed(2)); };
  const clients = Object.fromEntries(Object.entries(s.executors).map(([id, a]) => [id, createClient(ex.OrderExecutorDefinition, createChannel(a))]));
  await time('executor status', () => clients['executor-1'].status({}));
  const queue = createClient(q.OrderQueueDefinition, createChannel(s.addresses['order-queue']));
  await time('queue stats', () => queue.stats({}));
  await time('POST /checkout', () => h.postCheckout(s.baseUrl, h.coursePageOrder()));
  const lat = [];
  for (let i = 0; i < 30; i++) {
    const id = 'bench-' + i + '-' + Math.random();
    const a = performance.now();
    await queue.enqueue({ order: { orderId: id, shippingMethod: 'Standard', items: [], customerName: '', maskedCard: '', traceparent: '', enqueuedAtMs: 0 } });
    const b = performance.now();
    for (;;) { const r = await clients['executor-1'].executions({ orderIds: [id] }); if (r.executions.length) break; }
    lat.push([b - a, performance.now() - b]);
  }
  lat.sort((x, y) => x[1] - y[1]);
  console.log('enqueue p50', lat[15][0].toFixed(1), 'enqueue→executed p50', lat[15][1].toFixed(1), 'max', lat[29][1].toFixed(1));
  await s.stop();
})();
