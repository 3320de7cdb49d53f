const h = require('/work/main/dist/launcher/harness.js');
const fs = require('fs');
const cpu = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
(async () => {
  const s = await h.startSystem({ OTEL_SDK_DISABLED: process.env.OFF ? 'true' : 'false', FRAUD_CONTACT_VELOCITY_LIMIT: '100000000', FRAUD_CARD_VELOCITY_LIMIT: '100000000' });
  await new Promise(r => setTimeout(r, 10000));
  const pids = s.pids(); const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpu(p)]));
  const N = 200; const t0 = Date.now(); const lat = [];
  for (let i = 0; i < N; i++) { const a = performance.now(); await h.postCheckout(s.baseUrl, h.coursePageOrder()); lat.push(performance.now() - a); }
  const wall = Date.now() - t0; lat.sort((a, b) => a - b);
  console.log(process.env.OFF ? 'tracing off' : 'tracing on', 'wall', wall, 'ms; p50', lat[N >> 1].toFixed(1));
  for (const [k, p] of Object.entries(pids)) console.log('  ', k.padEnd(26), ((cpu(p) - before[k]) / N).toFixed(2), 'ms CPU/checkout');
  await s.stop();
})();
