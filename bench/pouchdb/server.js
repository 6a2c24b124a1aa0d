'use strict';
// CouchDB-protocol server for the benchmark: express 4 + express-pouchdb over
// PouchDB (leveldown, on disk). Run as a forked child of run.js; talks to the
// parent over the IPC channel:
//   parent -> child  {cmd:'load', file, batch}   load JSONL records into `records` (untimed)
//   child  -> parent {type:'loaded', count, ms}
//   parent -> child  {cmd:'listen', noCompression}
//   child  -> parent {type:'listening', port}
//   parent -> child  {cmd:'reset'}                zero the wire counters
//   child  -> parent {type:'reset'}
//   parent -> child  {cmd:'report'}
//   child  -> parent {type:'report', wire:{...}}
// argv: <data dir>

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const http = require('http');
const express = require('express');
const PouchDB = require('pouchdb');

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('server.js: missing data dir argument');
  process.exit(2);
}
fs.mkdirSync(dataDir, { recursive: true });

const log = (...a) => console.error('[server]', ...a);

// All databases (and express-pouchdb's own bookkeeping dbs) live under dataDir.
const ServerPouch = PouchDB.defaults({ prefix: dataDir + path.sep });
const DB_NAME = 'records';

function send(msg) {
  if (process.send) process.send(msg);
}

// ---------- loading (untimed) ----------

// PouchDB reserves top-level keys that start with '_'. Records should not have
// any, but if they do, keep the data by renaming the key instead of failing.
let renamedKeys = 0;
function toDoc(rec) {
  const doc = { _id: String(rec.id) };
  for (const k of Object.keys(rec)) {
    if (k === 'id') continue;
    if (k.startsWith('_')) {
      renamedKeys++;
      doc['u' + k] = rec[k];
    } else {
      doc[k] = rec[k];
    }
  }
  return doc;
}

async function load(file, batchSize) {
  const t0 = process.hrtime.bigint();
  const db = new ServerPouch(DB_NAME);
  const rl = readline.createInterface({
    input: fs.createReadStream(file),
    crlfDelay: Infinity,
  });
  let batch = [];
  let count = 0;
  let lineNo = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const res = await db.bulkDocs(batch);
    for (const r of res) {
      if (r.error) {
        throw new Error(`bulkDocs failed for ${r.id}: ${r.name || r.error} ${r.message || r.reason || ''}`);
      }
    }
    count += batch.length;
    batch = [];
  };
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${lineNo}: invalid JSON: ${e.message}`);
    }
    if (rec === null || typeof rec !== 'object' || rec.id === undefined) {
      throw new Error(`${file}:${lineNo}: record has no "id"`);
    }
    batch.push(toDoc(rec));
    if (batch.length >= batchSize) {
      await flush();
      if (count % 20000 === 0) log(`loaded ${count}`);
    }
  }
  await flush();
  const info = await db.info();
  await db.close();
  if (renamedKeys) log(`renamed ${renamedKeys} top-level keys starting with '_' (reserved by PouchDB)`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  log(`loaded ${count} records into '${DB_NAME}' (doc_count ${info.doc_count}) in ${(ms / 1000).toFixed(1)} s`);
  if (info.doc_count !== count) {
    throw new Error(`doc_count ${info.doc_count} != records loaded ${count} (duplicate ids?)`);
  }
  return { count, ms };
}

// ---------- serving, with wire accounting ----------

// Socket-level counters: what actually crossed the TCP connection as HTTP
// bytes (status line, headers, chunk framing and body, after any compression).
const live = new Map(); // socket -> {w0, r0} baselines at last reset
let closedWritten = 0;
let closedRead = 0;
// Response-level counters (from the outer middleware).
let requests = 0;
let bodyBytes = 0; // response body bytes handed to the socket layer (post-compression)
const encodings = {}; // content-encoding -> count
const routes = {}; // "METHOD /db/_endpoint" -> count

function resetCounters() {
  for (const [sock, base] of live) {
    base.w0 = sock.bytesWritten;
    base.r0 = sock.bytesRead;
  }
  closedWritten = 0;
  closedRead = 0;
  requests = 0;
  bodyBytes = 0;
  for (const k of Object.keys(encodings)) delete encodings[k];
  for (const k of Object.keys(routes)) delete routes[k];
}

function report() {
  let w = closedWritten;
  let r = closedRead;
  for (const [sock, base] of live) {
    w += sock.bytesWritten - base.w0;
    r += sock.bytesRead - base.r0;
  }
  return {
    server_to_client_bytes: w,
    client_to_server_bytes: r,
    response_body_bytes: bodyBytes,
    requests,
    content_encoding: { ...encodings },
    routes: { ...routes },
  };
}

function routeKey(req) {
  // "/records/_bulk_get?revs=true" -> "POST /db/_bulk_get"
  const p = (req.originalUrl || req.url).split('?')[0];
  const parts = p.split('/').filter(Boolean);
  let key;
  if (parts.length === 0) key = '/';
  else if (parts.length === 1) key = parts[0].startsWith('_') ? '/' + parts[0] : '/db';
  else if (parts[1].startsWith('_')) key = '/db/' + parts[1];
  else key = '/db/doc';
  return `${req.method} ${key}`;
}

function listen(noCompression) {
  return new Promise((resolve, reject) => {
    const app = express();
    app.disable('x-powered-by');
    app.use((req, res, next) => {
      requests++;
      const rk = routeKey(req);
      routes[rk] = (routes[rk] || 0) + 1;
      if (noCompression) delete req.headers['accept-encoding'];
      // This middleware runs before express-pouchdb's compression middleware,
      // so the write/end seen here receive the bytes after compression.
      const origWrite = res.write;
      const origEnd = res.end;
      const count = (chunk, enc) => {
        if (chunk == null || typeof chunk === 'function') return;
        bodyBytes += Buffer.isBuffer(chunk) ? chunk.length : Buffer.byteLength(chunk, typeof enc === 'string' ? enc : 'utf8');
      };
      res.write = function (chunk, enc, cb) {
        count(chunk, enc);
        return origWrite.call(this, chunk, enc, cb);
      };
      res.end = function (chunk, enc, cb) {
        count(chunk, enc);
        const ce = res.getHeader('content-encoding') || 'identity';
        encodings[ce] = (encodings[ce] || 0) + 1;
        return origEnd.call(this, chunk, enc, cb);
      };
      next();
    });
    const expressPouch = require('express-pouchdb')(ServerPouch, {
      mode: 'minimumForPouchDB',
      inMemoryConfig: true,
      logPath: path.join(dataDir, 'express-pouchdb.log'),
    });
    app.use('/', expressPouch);

    const server = http.createServer(app);
    server.keepAliveTimeout = 60000;
    server.on('connection', (sock) => {
      live.set(sock, { w0: 0, r0: 0 });
      sock.on('close', () => {
        const base = live.get(sock);
        if (base) {
          closedWritten += sock.bytesWritten - base.w0;
          closedRead += sock.bytesRead - base.r0;
          live.delete(sock);
        }
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'load') {
      const r = await load(msg.file, msg.batch || 1000);
      send({ type: 'loaded', ...r });
    } else if (msg.cmd === 'listen') {
      const port = await listen(!!msg.noCompression);
      log(`listening on 127.0.0.1:${port}${msg.noCompression ? ' (compression disabled)' : ''}`);
      send({ type: 'listening', port });
    } else if (msg.cmd === 'reset') {
      resetCounters();
      send({ type: 'reset' });
    } else if (msg.cmd === 'report') {
      send({ type: 'report', wire: report() });
    }
  } catch (e) {
    log('error:', e && e.stack ? e.stack : e);
    send({ type: 'error', message: String(e && e.message ? e.message : e) });
    process.exit(1);
  }
});

// If the parent goes away, go with it.
process.on('disconnect', () => process.exit(0));
