// PouchDB -> pouchdb-server replication of the sync benchmark's workload, modelled the way the
// Community Health Toolkit uses CouchDB: one document per household profile, per visit and per
// care-log entry. pouchdb-server runs in its own process; a TCP proxy in front of it counts
// the bytes on the wire both ways and the HTTP requests.
//
// usage: node replicate.js HOUSEHOLDS CHANGED   (prints one JSON line)
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const PouchDB = require('pouchdb');

const households = parseInt(process.argv[2] || '500', 10);
const changed = parseInt(process.argv[3] || '100', 10);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ruhu-pouch-'));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { const r = await fetch(url); if (r.ok) return; } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pouchdb-server did not start');
}

const counters = { up: 0, down: 0, requests: 0 };
function proxy(listenPort, targetPort) {
  return new Promise((resolve) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      client.on('data', (d) => {
        counters.up += d.length;
        counters.requests += (d.toString('latin1').match(/^(GET|POST|PUT|DELETE|HEAD) /gm) || []).length;
        upstream.write(d);
      });
      upstream.on('data', (d) => { counters.down += d.length; client.write(d); });
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    server.listen(listenPort, '127.0.0.1', () => resolve(server));
  });
}

function member(h, m) {
  return { name: `成员${h}-${m}`, id_number: `620102${1950 + (m * 7 + h) % 60}0101${String(h % 1000).padStart(3, '0')}X`,
    relation: m === 0 ? 'head' : 'child', health: 'healthy', disability: 'none', labour_ability: 'full' };
}
function profile(h, edit) {
  return { type: 'household', village_code: `620102001${String(h % 20).padStart(3, '0')}`,
    address: `${h % 9 + 1}组${edit}`, status: 'active', program: 'rural_dibao', dibao_class: 1 + h % 4,
    members: [0, 1, 2, 3].map((m) => member(h, m)) };
}
function visit(h, v) {
  return { type: 'visit', household: `hh-${h}`, purpose: 'periodic_review', answers: { wage_income_fen: 120000 + v,
    business_income_fen: 0, conclusion: 'eligible', reason: '收入低于标准' }, sealed: true,
    signatures: ['township_leader', 'village_cadre', 'case_handler'].map((role) => ({ role, worker: `w-${role}`,
      signature: 'x'.repeat(88), certificate_hash: 'c'.repeat(64) })) };
}
function careLog(h, i) {
  return { type: 'care_log', household: `hh-${h}`, task: ['clean', 'laundry', 'haircut', 'necessities'][i % 4],
    done_by: 'caregiver', done_at: `2026-0${1 + i % 9}-1${i % 9}T09:00:00Z`, note: '已完成' };
}

(async () => {
  const serverPort = await freePort();
  const proxyPort = await freePort();
  const bin = path.join(__dirname, '..', '..', '.tools', 'pouchdb', 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
  const server = spawn(process.execPath, [bin, '--port', String(serverPort), '--host', '127.0.0.1', '--dir', path.join(tmp, 'server'), '--no-color'], { stdio: 'ignore', cwd: tmp });
  try {
    await waitFor(`http://127.0.0.1:${serverPort}/`);
    const p = await proxy(proxyPort, serverPort);
    const local = new PouchDB(path.join(tmp, 'tablet'));
    const remote = `http://127.0.0.1:${proxyPort}/county`;
    await fetch(`http://127.0.0.1:${serverPort}/county`, { method: 'PUT' });

    // Three years of history: 3 visits, 36 care-log entries, a few profile edits.
    const seed = [];
    for (let h = 0; h < households; h++) {
      seed.push({ _id: `hh-${h}`, ...profile(h, 0) });
      for (let v = 0; v < 3; v++) seed.push({ _id: `visit-${h}-${v}`, ...visit(h, v) });
      for (let i = 0; i < 36; i++) seed.push({ _id: `care-${h}-${i}`, ...careLog(h, i) });
    }
    for (let i = 0; i < seed.length; i += 2000) await local.bulkDocs(seed.slice(i, i + 2000));
    for (let e = 1; e <= 3; e++) {
      const docs = await local.allDocs({ include_docs: true, startkey: 'hh-', endkey: 'hh-\uffff' });
      await local.bulkDocs(docs.rows.map((r) => ({ ...r.doc, ...profile(parseInt(r.id.slice(3), 10), e) })));
    }
    await local.replicate.to(remote);

    // The day's work: 1 new visit, 4 care-log entries, 1 profile edit per changed household.
    const day = [];
    for (let h = 0; h < changed; h++) {
      day.push({ _id: `visit-${h}-new`, ...visit(h, 9) });
      for (let i = 0; i < 4; i++) day.push({ _id: `care-${h}-new-${i}`, ...careLog(h, 40 + i) });
    }
    await local.bulkDocs(day);
    const heads = await local.allDocs({ include_docs: true, keys: [...Array(changed).keys()].map((h) => `hh-${h}`) });
    await local.bulkDocs(heads.rows.map((r) => ({ ...r.doc, address: 'edited today' })));

    counters.up = 0; counters.down = 0; counters.requests = 0;
    const started = process.hrtime.bigint();
    const result = await local.replicate.to(remote);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(JSON.stringify({ seconds, bytes_up: counters.up, bytes_down: counters.down, requests: counters.requests,
      docs_written: result.docs_written, households, changed }));
    p.close();
    await local.close();
  } finally {
    server.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
