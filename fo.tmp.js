const h = require('./dist/launcher/harness.js');
(async () => {
  const s = await h.startSystem({ LOG_LEVEL: 'debug', FRAUD_CONTACT_VELOCITY_LIMIT: '100000000', FRAUD_CARD_VELOCITY_LIMIT: '100000000', CAUSEWAY_RESTART_DELAY_MS: '1000', RAFT_ELECTION_TICKS: '8', RAFT_HEARTBEAT_TICKS: '2' });
  let running = true;
  const load = (async () => { while (running) { await h.postCheckout(s.baseUrl, h.coursePageOrder()).catch(() => {}); await new Promise(r => setTimeout(r, 5)); } })();
  await new Promise(r => setTimeout(r, 1500));
  const c = (await (await fetch(s.baseUrl + '/cluster')).json()).executors.find(e => e.role === 'leader');
  const from = s.lines.length; const t0 = Date.now();
  process.kill(s.pids()[c.id], 'SIGKILL');
  await new Promise(r => setTimeout(r, 1500));
  running = false; await load;
  for (const r of s.records().slice(from)) {
    if (r.service === 'order-executor' || r.service === 'order-queue' || r.service==='launcher') {
      if (!/replayed|cleared/.test(r.message)) console.log(Date.parse(r.timestamp) - t0 || '', r.executor || r.service, r.message.slice(0, 90));
    }
  }
  await s.stop();
})();
