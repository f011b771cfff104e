// ossup Web Worker glue. It loads Go's wasm_exec.js (copied from the
// toolchain that built the engine, so their versions match) and the engine,
// off the page's UI thread, and gives the engine what is easier to write in
// JS: an IndexedDB key-value store for checkpoints, Web Locks, and the
// message channel to the page. Data flows page -> worker -> engine -> XHR.
// The messages both ways are declared in protocol.json.
'use strict';

// Where Go's glue and the engine are: in the worker's query, or, when the
// page started the worker through a blob: bootstrap (this script on another
// origin: a worker script must be the page's own), in self.ossupParams.
const params = self.ossupParams ? new Map(Object.entries(self.ossupParams)) : new URL(self.location.href).searchParams;
importScripts(params.get('glue'));

// ossupThrottledProgress calls fn(loaded) for target's progress events, at
// most once every ms milliseconds: WebKit fires upload progress far more
// often than the engine reports it, and each call into Go costs the worker
// thread (wasm/xhr.go). The engine counts a request's whole body at its
// load event, so a skipped last event loses nothing.
self.ossupThrottledProgress = (target, fn, ms) => {
  let last = -Infinity;
  target.addEventListener('progress', (e) => {
    const now = performance.now();
    if (now - last < ms) return;
    last = now;
    fn(e.loaded);
  });
};

// Checkpoints: an IndexedDB object store whose values are the engine's
// encoded records (validated by the engine when read back). A second store
// keeps the FileSystemFileHandle of an upload, when the page had one, so a
// reloaded page or restarted browser resumes without re-picking the file.
//
// IndexedDB must never stop an upload, only its resumability:
// - a tab of an earlier deploy holding an older version open blocks our
//   upgrade ("blocked") until it closes: meanwhile every call fails at once
//   (the engine uploads without resuming and warns), and once the old tab
//   closes the upgrade goes through and checkpoints work again;
// - when a later deploy opens a newer version, this connection closes
//   ("versionchange"), so this tab never blocks it;
// - every call has a deadline (KV_DEADLINE_MS).
const DB_VERSION = 2;
const KV_DEADLINE_MS = 5000;
// OPEN_GRACE_MS is how long a call waits for the database to open when it
// is neither open nor known to be blocked (the first calls of a page).
const OPEN_GRACE_MS = 3000;

const storage = { db: null, blocked: false, slow: false, closed: false, error: null, waiters: [] };

function storageError(message) {
  return Object.assign(new Error(message), { code: 'storage_unavailable' });
}

function openDB() {
  let req;
  try {
    req = indexedDB.open('ossup', DB_VERSION);
  } catch (e) {
    storage.error = storageError('IndexedDB cannot be opened: ' + e.message);
    return;
  }
  req.onupgradeneeded = () => {
    for (const name of ['checkpoints', 'handles']) {
      if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
    }
  };
  req.onblocked = () => {
    storage.blocked = true;
    settleWaiters();
  };
  req.onsuccess = () => {
    const d = req.result;
    d.onversionchange = () => {
      // A newer deploy wants the database: give it up at once.
      d.close();
      storage.db = null;
      storage.closed = true;
    };
    d.onclose = () => { storage.db = null; storage.closed = true; };
    storage.db = d;
    storage.blocked = storage.slow = false;
    settleWaiters();
  };
  req.onerror = () => {
    storage.error = storageError('IndexedDB cannot be opened: ' + ((req.error && req.error.message) || 'unknown error'));
    settleWaiters();
  };
}
typeof indexedDB === 'undefined' ? (storage.error = storageError('this browser has no IndexedDB here')) : openDB();

function settleWaiters() {
  storage.waiters.splice(0).forEach((w) => w());
}

// database resolves to the open connection or rejects at once when it
// cannot be had now.
function database() {
  const now = () => {
    if (storage.db) return storage.db;
    if (storage.closed) throw storageError('a newer version of this site took over the checkpoint storage: reload the page to resume uploads');
    if (storage.blocked || storage.slow) throw storageError('another tab of this site (an older version) holds the checkpoint storage open: close it to resume uploads after a reload');
    if (storage.error) throw storage.error;
    return null;
  };
  const d = now();
  if (d) return Promise.resolve(d);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      storage.waiters = storage.waiters.filter((w) => w !== settle);
      // Not open after the grace: blocked without saying so (Chromium
      // may hold the upgrade without firing blocked). Later calls fail at
      // once until it opens, rather than each waiting again.
      storage.slow = true;
      reject(storageError('IndexedDB did not open within ' + OPEN_GRACE_MS + ' ms (another tab may hold it at an older version)'));
    }, OPEN_GRACE_MS);
    const settle = () => {
      clearTimeout(timer);
      try { const db = now(); db ? resolve(db) : reject(storageError('IndexedDB is not open')); } catch (e) { reject(e); }
    };
    storage.waiters.push(settle);
  });
}

// deadline rejects with a storage_unavailable error when p has not settled
// within ms.
function deadline(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, reject) => {
    timer = setTimeout(() => reject(storageError('IndexedDB ' + what + ' did not answer within ' + ms + ' ms')), ms);
  })]).finally(() => clearTimeout(timer));
}

function tx(mode, op, store, what) {
  return deadline(database().then((d) => new Promise((resolve, reject) => {
    const t = d.transaction(store, mode);
    const req = op(t.objectStore(store));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('IndexedDB transaction aborted'));
  })), KV_DEADLINE_MS, what);
}

function kv(store) {
  return {
    get: (k) => tx('readonly', (s) => s.get(k), store, 'get'),
    put: (k, v) => tx('readwrite', (s) => s.put(v, k), store, 'put').then(() => undefined),
    del: (k) => tx('readwrite', (s) => s.delete(k), store, 'delete').then(() => undefined),
    keys: () => tx('readonly', (s) => s.getAllKeys(), store, 'keys'),
    // scan resolves to [keys, values] under a prefix, in one transaction.
    // The engine's keys are ASCII, so every key under p sorts below
    // p + '\uffff'.
    scan: (p) => tx('readonly', (s) => {
      const range = IDBKeyRange.bound(p, p + '\uffff', false, true);
      const keys = s.getAllKeys(range);
      const values = s.getAll(range);
      return { get result() { return [keys.result, values.result]; } };
    }, store, 'scan'),
    delPrefix: (p) => tx('readwrite', (s) => s.delete(IDBKeyRange.bound(p, p + '\uffff', false, true)), store, 'delete').then(() => undefined),
  };
}
self.ossupKV = kv('checkpoints');
self.ossupHandles = kv('handles');

// ossupEarlierVersions resolves to the checkpoint ids whose kept file
// handle is the same entry as the one kept for id: proof that they are
// earlier versions of that file (edited since), whose interrupted uploads
// the engine may discard. Without a handle there is no proof: [].
self.ossupEarlierVersions = async (id) => {
  const mine = await self.ossupHandles.get(id);
  if (!mine || typeof mine.isSameEntry !== 'function') return [];
  const [keys, values] = await self.ossupHandles.scan('');
  const out = [];
  for (let i = 0; i < keys.length; i++) {
    const other = values[i];
    if (keys[i] === id || !other || typeof other.isSameEntry !== 'function') continue;
    if (await mine.isSameEntry(other).catch(() => false)) out.push(keys[i]);
  }
  return out;
};

// pendingWithHandles adds to each resumable upload the file handle kept for
// it, if any.
async function pendingWithHandles() {
  const recs = await engine.pending();
  for (const r of recs) {
    r.handle = await self.ossupHandles.get(r.id).catch(() => undefined);
  }
  return recs;
}

// Web Locks keep a second tab from driving the same upload. Insecure
// contexts (plain-http intranet hosts) and Safari before 15.4 have none:
// the engine then uploads unguarded, with a warning.
self.ossupLocksAvailable = !!(self.navigator && navigator.locks && typeof navigator.locks.request === 'function');

// ossupLock resolves to a release function, or null when another tab holds
// the lock.
self.ossupLock = (name) => new Promise((resolve, reject) => {
  navigator.locks.request(name, { ifAvailable: true }, (lock) => {
    if (!lock) { resolve(null); return undefined; }
    return new Promise((release) => resolve(release));
  }).catch(reject);
});

// ossupLockHeld tells whether some tab holds an upload's lock, so the engine
// never supersedes an upload another tab is driving.
self.ossupLockHeld = (name) => navigator.locks.query().then((s) => s.held.some((l) => l.name === name));

self.ossupEmit = (id, event) => postMessage({ type: 'event', id, event });

// ossupAskHeaders asks the page for its headers function's answer, before a
// backend call and once more after a 401 (after401).
const asks = new Map();
let askSeq = 0;
self.ossupAskHeaders = (after401) => new Promise((resolve, reject) => {
  const askId = ++askSeq;
  asks.set(askId, { resolve, reject });
  postMessage({ type: 'needHeaders', askId, after401: !!after401 });
  // The engine waits 30 s; the entry goes with it.
  setTimeout(() => { if (asks.delete(askId)) reject(new Error('the page did not answer with headers within 30 s')); }, 30000);
});
function answered(m) {
  const a = asks.get(m.askId);
  asks.delete(m.askId);
  if (a) (m.error === undefined ? a.resolve(m.headers) : a.reject(new Error(m.error)));
}

// A crash (the Go program exited, or an exception nothing caught) leaves
// the engine in an unknown state: the page is told once, fails every open
// upload with engine_crashed and ends this worker (which releases its Web
// Locks); the checkpoints stay, so a new uploader resumes.
let crashed = false;
function crash(message) {
  if (crashed) return;
  crashed = true;
  postMessage({ type: 'crashed', message });
}
self.addEventListener('error', (e) => crash('uncaught exception in the engine worker: ' + (e.message || e.error || 'unknown')));

let engine = null;
const early = [];
self.onmessage = (e) => (crashed ? undefined : engine ? handle(e.data) : early.push(e.data));

function errorInfo(err) {
  return { message: String((err && err.message) || err), code: (err && typeof err.code === 'string' && err.code) || undefined };
}

function reply(reqId, run) {
  let p;
  try { p = Promise.resolve(run()); } catch (e) { p = Promise.reject(e); }
  p.then((value) => postMessage({ type: 'reply', reqId, value }),
    (err) => postMessage({ type: 'reply', reqId, error: errorInfo(err) }));
}

// call runs an engine function that answers nothing; a rejection (a bad
// argument, a bug) fails the upload it was for.
function call(id, f) {
  let p;
  try { p = Promise.resolve(f()); } catch (e) { p = Promise.reject(e); }
  p.catch((err) => postMessage({ type: 'event', id, event: { kind: 'error', state: 'failed', error: { code: 'js_exception', ...errorInfo(err) } } }));
}

function handle(m) {
  switch (m.type) {
    case 'configure': call(null, () => engine.configure(m.options)); break;
    case 'setHeaders': call(null, () => engine.setHeaders(m)); break;
    case 'headers': answered(m); break;
    case 'start': call(m.id, () => engine.start(m.id, m.file, m.handle || null, m.options || null)); break;
    case 'resumeStored': call(m.id, () => engine.resumeStored(m.id, m.key)); break;
    case 'pause': call(m.id, () => engine.pause(m.id)); break;
    case 'resume': call(m.id, () => engine.resume(m.id)); break;
    case 'cancel': reply(m.reqId, () => engine.cancel(m.id)); break;
    case 'discard': reply(m.reqId, () => engine.discard(m.key)); break;
    case 'pending': reply(m.reqId, pendingWithHandles); break;
    default: postMessage({ type: 'error', message: 'unknown message ' + m.type });
  }
}

(async () => {
  try {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch(params.get('engine')), go.importObject);
    // main() runs until it blocks, so what it publishes is there when run
    // yields; the returned promise only settles if the engine exits.
    go.run(instance).then(() => crash('the engine exited'), (e) => crash('the engine failed: ' + ((e && e.message) || e)));
    engine = self.ossupEngine;
    postMessage({ type: 'ready', version: self.ossupEngineVersion });
    early.splice(0).forEach(handle);
  } catch (e) {
    postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
})();
