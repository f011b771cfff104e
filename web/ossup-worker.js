// ossup Web Worker glue. It loads Go's wasm_exec.js (copied from the
// toolchain that built the engine, so their versions match) and the engine,
// off the page's UI thread, and gives the engine what is easier to write in
// JS: an IndexedDB key-value store for checkpoints, Web Locks, and the
// message channel to the page. Data flows page -> worker -> engine -> XHR.
'use strict';

const params = new URL(self.location.href).searchParams;
importScripts(params.get('glue'));

// Checkpoints: an IndexedDB object store whose values are the engine's
// encoded records (validated by the engine when read back). A second store
// keeps the FileSystemFileHandle of an upload, when the page had one, so a
// reloaded page or restarted browser resumes without re-picking the file.
const db = new Promise((resolve, reject) => {
  const req = indexedDB.open('ossup', 2);
  req.onupgradeneeded = () => {
    for (const name of ['checkpoints', 'handles']) {
      if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
    }
  };
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
function tx(mode, op, store = 'checkpoints') {
  return db.then((d) => new Promise((resolve, reject) => {
    const t = d.transaction(store, mode);
    const req = op(t.objectStore(store));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('IndexedDB transaction aborted'));
  }));
}
self.ossupKV = {
  get: (k) => tx('readonly', (s) => s.get(k)),
  put: (k, v) => tx('readwrite', (s) => s.put(v, k)).then(() => undefined),
  del: (k) => tx('readwrite', (s) => s.delete(k)).then(() => undefined),
  keys: () => tx('readonly', (s) => s.getAllKeys()),
};

self.ossupHandles = {
  get: (k) => tx('readonly', (s) => s.get(k), 'handles'),
  put: (k, h) => tx('readwrite', (s) => s.put(h, k), 'handles').then(() => undefined),
  del: (k) => tx('readwrite', (s) => s.delete(k), 'handles').then(() => undefined),
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

// ossupLock resolves to a release function, or null when another tab holds
// the lock: a second tab must never drive the same upload.
self.ossupLock = (name) => new Promise((resolve) => {
  navigator.locks.request(name, { ifAvailable: true }, (lock) => {
    if (!lock) { resolve(null); return undefined; }
    return new Promise((release) => resolve(release));
  });
});

// ossupLockHeld tells whether some tab holds an upload's lock, so the engine
// never supersedes an upload another tab is driving.
self.ossupLockHeld = (name) => navigator.locks.query().then((s) => s.held.some((l) => l.name === name));

self.ossupEmit = (id, event) => postMessage({ type: 'event', id, event });

let engine = null;
const early = [];
self.onmessage = (e) => (engine ? handle(e.data) : early.push(e.data));

function reply(reqId, p) {
  p.then((value) => postMessage({ type: 'reply', reqId, value }),
    (err) => postMessage({ type: 'reply', reqId, error: String((err && err.message) || err) }));
}

function handle(m) {
  switch (m.type) {
    case 'configure': engine.configure(m.options); break;
    case 'start': engine.start(m.id, m.file, m.handle || null); break;
    case 'pause': engine.pause(m.id); break;
    case 'resume': engine.resume(m.id); break;
    case 'cancel': reply(m.reqId, engine.cancel(m.id)); break;
    case 'pending': reply(m.reqId, pendingWithHandles()); break;
    default: postMessage({ type: 'error', message: 'unknown message ' + m.type });
  }
}

(async () => {
  try {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch(params.get('engine')), go.importObject);
    // main() runs until it blocks, so what it publishes is there when run
    // yields; the returned promise only settles if the engine exits.
    go.run(instance).then(() => postMessage({ type: 'exit' }));
    engine = self.ossupEngine;
    postMessage({ type: 'ready', version: self.ossupEngineVersion });
    early.splice(0).forEach(handle);
  } catch (e) {
    postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
})();
