// ossup: resumable uploads to Alibaba Cloud OSS from the browser.
//
//   import { createUploader } from './ossup.js';
//   const up = createUploader({ backend: 'https://uploads.example.com' });
//   const h = up.upload(file);
//   h.addEventListener('progress', (e) => render(e.detail));
//   const result = await h.done;
//
// The upload work runs in a dedicated Web Worker: the page's UI thread only
// receives events. See ossup.d.ts for the API.

let nextId = 0;

export function createUploader(options = {}) {
  return new Uploader(options);
}

// uploaderError is an Error with the code the page tells failures apart by.
const uploaderError = (code, message, extra) => Object.assign(new Error(message), { code }, extra || {});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// normHeaders turns what a page may give as headers (an object, a Headers,
// pairs) into a plain object of strings, the form the worker takes.
function normHeaders(h) {
  if (h === undefined || h === null) return {};
  if (typeof h !== 'object') throw new TypeError('ossup: headers must be an object, a Headers, pairs or a function returning one, not a ' + typeof h);
  const out = {};
  const entries = typeof h.entries === 'function' && !Array.isArray(h) ? [...h.entries()] : Array.isArray(h) ? h : Object.entries(h);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new TypeError('ossup: header ' + k + ' must be a string, got ' + typeof v);
    out[k] = v;
  }
  return out;
}

const sameHeaders = (a, b) => {
  if (!a || !b) return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

// startWorker starts the engine's worker. A worker script must come from
// the page's origin; when ossup.js (and so its worker) is served from
// another one (the backend's, a CDN), a same-origin blob: bootstrap
// importScripts it, which classic workers may do from anywhere. The
// worker then runs as the page's origin (its IndexedDB, its Web Locks).
function startWorker(url, params) {
  const abs = new URL(url, location.href);
  if (abs.origin === location.origin) {
    for (const [k, v] of Object.entries(params)) abs.searchParams.set(k, v);
    return new Worker(abs.href);
  }
  const boot = 'self.ossupParams = ' + JSON.stringify(params) + ';\nimportScripts(' + JSON.stringify(abs.href) + ');\n';
  const blobURL = URL.createObjectURL(new Blob([boot], { type: 'text/javascript' }));
  const w = new Worker(blobURL);
  w.addEventListener('message', () => URL.revokeObjectURL(blobURL), { once: true });
  return w;
}

// How long one whoami may take, and the bounds of the backoff between
// whoami attempts the backend did not answer (or answered 5xx, 429).
const whoamiTimeout = 30000;
const backoffMin = 500;
const backoffMax = 15000;

class Uploader {
  constructor(options) {
    // Options are checked before the worker starts: a refused option
    // leaves nothing running.
    const backend = new URL(options.backend || location.origin, location.href);
    this._base = backend.href.replace(/\/$/, '');
    this._crossOrigin = backend.origin !== location.origin;
    // Cookies go to a backend on another origin only when its
    // authentication needs them (dev mode's identity) or the page says so:
    // a backend allowing any origin (*) refuses requests that carry them.
    this._credMode = options.credentials || 'auto';
    if (!['auto', 'include', 'omit'].includes(this._credMode)) {
      throw new TypeError('ossup: credentials must be "auto", "include" or "omit", not ' + JSON.stringify(options.credentials));
    }
    this._source = options.headers;
    this._cur = typeof this._source === 'function' ? null : normHeaders(this._source);
    const assets = options.assets || {};
    // Literal `new URL('./file', import.meta.url)`: bundlers (Vite, webpack 5,
    // Rollup, Parcel) recognise it and copy the file into the build under a
    // hashed name, so the package needs no bundler configuration. ?no-inline:
    // Vite inlines files under 4 KiB as data: URLs, and a worker from a data:
    // URL has an opaque origin (no IndexedDB, no requests with cookies).
    const worker = assets.worker || new URL('./ossup-worker.js?no-inline', import.meta.url).href;
    // Absolute, as the page sees them: a blob: bootstrap has no base URL.
    const abs = (u) => new URL(u, location.href).href;
    this._worker = startWorker(worker, {
      engine: abs(assets.engine || new URL('./engine.wasm', import.meta.url).href),
      glue: abs(assets.glue || new URL('./wasm_exec.js', import.meta.url).href),
    });
    this._handles = new Map();
    this._replies = new Map();
    const engineReady = new Promise((resolve, reject) => { this._ready = { resolve, reject }; });
    this._worker.onmessage = (e) => this._message(e.data);
    // The worker failing to load, or an exception nothing in it caught:
    // the engine's state is unknown, so every open upload fails.
    this._worker.onerror = (e) => this._crash('engine worker failed: ' + (e.message || 'error'));
    this._headerWaiters = [];
    this._post({
      type: 'configure',
      options: {
        backend: this._base,
        headers: this._cur || {},
        concurrency: options.concurrency,
        maxBytesInFlight: options.maxBytesInFlight,
        patienceSeconds: options.patienceSeconds,
        clockOffsetMs: options.testClockOffsetMs,
      },
    });
    // ready settles once: the engine loaded and the backend accepted us,
    // or an answer no retry can fix (then the next upload tries again).
    this.ready = new Promise((resolve, reject) => {
      Promise.all([engineReady, this._whoami()]).then(([version]) => resolve(version), reject);
      this._rejectReady = reject;
    });
    this.ready.catch(() => {});
  }

  /** Who the backend says the uploads belong to (asked again after a failure). */
  get user() { return this._whoami(); }

  /**
   * Replaces the headers of every later backend call (an object, or a
   * function called before each call). Uploads waiting in state
   * unauthenticated continue with them.
   */
  setHeaders(headers) {
    const wasFunction = typeof this._source === 'function';
    this._source = typeof headers === 'function' ? headers : normHeaders(headers);
    if (this._cookieAuth !== undefined && wasFunction !== (typeof headers === 'function')) {
      this._post({ type: 'setHeaders', credentials: this._cookieAuth, ask: typeof headers === 'function' });
    }
    if (typeof headers === 'function') {
      this._headersNow().then(() => this._headerWaiters.splice(0).forEach((w) => w()), () => {});
      return;
    }
    this._adopt(this._source, true);
  }

  // _headersNow is the headers for a backend request: the function's
  // answer (called every time; one call at a time), or the set object.
  async _headersNow() {
    if (typeof this._source !== 'function') return this._cur || {};
    if (!this._calling) {
      const src = this._source;
      this._calling = Promise.resolve().then(() => src()).then(normHeaders).finally(() => { this._calling = null; });
    }
    const h = await this._calling;
    this._adopt(h, false);
    return h;
  }

  // _adopt installs h in the worker when it differs from what it has (or
  // when the page pushed it: a push always wakes the waiting uploads).
  _adopt(h, pushed) {
    if (!pushed && sameHeaders(h, this._cur)) return;
    this._cur = h;
    this._post({ type: 'setHeaders', headers: h });
    this._headerWaiters.splice(0).forEach((w) => w());
  }

  // _newHeaders resolves once headers other than rejected are installed:
  // pushed by the page, or, with a function, its answer (asked with
  // backoff while something waits).
  _newHeaders(rejected) {
    const changed = new Promise((resolve) => this._headerWaiters.push(resolve));
    if (typeof this._source === 'function' && !this._polling) {
      // The delay grows across waits, so a function that keeps answering
      // refused tokens costs a call every 30 s at most, not a storm.
      this._polling = (async () => {
        while (sameHeaders(this._cur, rejected)) {
          this._pollDelay = Math.min(2 * (this._pollDelay || 500), 30000);
          await sleep(this._pollDelay);
          await this._headersNow().catch(() => {});
        }
      })().finally(() => { this._polling = null; });
    }
    return changed;
  }

  // _unauthenticated is called when an upload waits for new headers.
  _unauthenticated() {
    if (this._reauth) return;
    this._reauth = this._newHeaders(this._cur).finally(() => { this._reauth = null; });
  }

  _whoami() {
    if (!this._identity) {
      const p = this._resolveIdentity();
      this._identity = p;
      // Lazily retried: a failure is not kept for the page's lifetime.
      p.catch(() => { if (this._identity === p) this._identity = null; });
    }
    return this._identity;
  }

  // _fetchWhoami is one whoami: {status, body}, status 0 when no answer
  // came (the network, a backend down, a CORS refusal: a page cannot tell).
  async _fetchWhoami(headers, credentials) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), whoamiTimeout);
    try {
      const r = await fetch(this._base + '/api/v1/whoami', { headers, credentials, signal: ctl.signal, cache: 'no-store' });
      return { status: r.status, body: await r.json().catch(() => null), retryAfter: Number(r.headers.get('Retry-After')) || 0 };
    } catch (err) {
      return { status: 0, error: err };
    } finally {
      clearTimeout(timer);
    }
  }

  // _resolveIdentity asks the backend who we are until it answers. No
  // answer, 5xx, 408 and 429 are retried with backoff for as long as it
  // takes (the backend may be deploying); 401 waits for new headers (the
  // uploads waiting show state unauthenticated); other answers are final.
  async _resolveIdentity() {
    let delay = backoffMin;
    let refused = 0;
    const again = async (a) => {
      await sleep(Math.max(a.retryAfter * 1000, Math.random() * delay));
      delay = Math.min(2 * delay, backoffMax);
    };
    for (let after401 = false; ;) {
      let headers;
      try {
        headers = await this._headersNow();
      } catch (err) {
        // No headers can be had now: as a 401, wait for new ones.
        this._authWait(uploaderError('unauthenticated', 'the headers function failed: ' + err.message));
        await this._newHeaders(this._cur);
        continue;
      }
      const cookies = this._credMode === 'include';
      const credentials = !this._crossOrigin ? 'same-origin' : cookies ? 'include' : 'omit';
      let a = await this._fetchWhoami(headers, credentials);
      if (a.status === 200 && a.body && typeof a.body.user === 'string' && this._crossOrigin &&
          this._credMode === 'auto' && a.body.auth === 'dev') {
        // The dev identity is a cookie: settle it with a credentialed call.
        // Without an answer right after one came, the backend most likely
        // refuses credentials (OSSUP_CORS_ORIGINS=*): three times in a row
        // is final.
        const withCookie = await this._fetchWhoami(headers, 'include');
        if (withCookie.status === 0 && ++refused >= 3) {
          throw uploaderError('credentials_refused', 'the backend at ' + this._base + ' uses dev mode, whose identity is a cookie, but refuses requests with cookies from ' +
            location.origin + ': name this origin in OSSUP_CORS_ORIGINS (not *)');
        }
        a = withCookie.status === 0 ? { status: 0 } : withCookie;
      }
      if (a.status === 200) {
        if (!a.body || typeof a.body.user !== 'string') {
          throw uploaderError('not_ossup_backend', 'the answer of ' + this._base + '/api/v1/whoami is not an ossup backend\'s: check the backend URL');
        }
        const cookieAuth = this._crossOrigin && (cookies || (this._credMode === 'auto' && a.body.auth === 'dev'));
        this._cookieAuth = cookieAuth;
        this._post({ type: 'setHeaders', credentials: cookieAuth, ask: typeof this._source === 'function' });
        this._authWaiting = false;
        this._pollDelay = 0;
        return a.body;
      }
      if (a.status === 0 || a.status === 408 || a.status === 429 || a.status >= 500) {
        refused = a.status === 0 ? refused : 0;
        await again(a);
        continue;
      }
      const e = (a.body && a.body.error) || {};
      if (a.status === 401) {
        if (typeof this._source === 'function' && !after401) {
          after401 = true; // called once more before anything fails
          continue;
        }
        this._authWait(uploaderError(e.code || 'unauthenticated', e.message || 'the backend refused the headers (401)', e));
        await this._newHeaders(headers);
        after401 = false;
        continue;
      }
      if (a.status === 404) {
        throw uploaderError('backend_not_found', 'no ossup API at ' + this._base + '/api/v1 (404): check the backend URL');
      }
      throw uploaderError(e.code || 'backend_refused', e.message || 'the backend answered ' + a.status, e);
    }
  }

  // _authWait tells the page that no valid headers are to be had: ready
  // rejects (code unauthenticated), uploads waiting for the identity show
  // state unauthenticated; all continue once new headers arrive.
  _authWait(err) {
    this._authWaiting = true;
    this._rejectReady(err);
    for (const h of this._handles.values()) {
      if (h._waitingIdentity && h.state !== 'unauthenticated') h._event({ ...h.progress, kind: 'state', state: 'unauthenticated' });
    }
  }

  _message(m) {
    switch (m.type) {
      case 'ready': this.version = m.version; this._ready.resolve(m.version); break;
      case 'error': this._ready.reject(uploaderError('engine_failed', m.message)); break;
      case 'event': {
        const h = this._handles.get(m.id);
        if (h) h._event(m.event);
        if (m.event.state === 'unauthenticated') this._unauthenticated();
        break;
      }
      case 'needHeaders':
        this._headersNow().then(
          (headers) => this._post({ type: 'headers', askId: m.askId, headers }),
          (err) => this._post({ type: 'headers', askId: m.askId, error: String((err && err.message) || err) }));
        break;
      case 'reply': {
        const r = this._replies.get(m.reqId);
        this._replies.delete(m.reqId);
        if (r) (m.error === undefined ? r.resolve(m.value) : r.reject(codedError(m.error)));
        break;
      }
      case 'crashed': this._crash(m.message); break;
      default: break;
    }
  }

  // _crash fails every open upload with engine_crashed, rejects every call
  // waiting for an answer and ends the worker (which releases its Web
  // Locks). Checkpoints stay: a new uploader resumes the uploads.
  _crash(message) {
    if (this._crashed) return;
    const info = { code: 'engine_crashed', message: 'the upload engine stopped (' + message + '): create a new uploader to resume' };
    this._crashed = info;
    this._worker.terminate();
    this._ready.reject(codedError(info));
    for (const r of this._replies.values()) r.reject(codedError(info));
    this._replies.clear();
    for (const h of [...this._handles.values()]) h._event({ kind: 'error', state: 'failed', error: info });
  }

  _post(m) {
    if (!this._crashed) this._worker.postMessage(m);
  }

  _call(type, fields) {
    const reqId = ++nextId;
    return new Promise((resolve, reject) => {
      if (this._crashed) { reject(codedError(this._crashed)); return; }
      this._replies.set(reqId, { resolve, reject });
      this._worker.postMessage({ type, reqId, ...fields });
    });
  }

  // _handle registers a new upload handle. Its id is bound now, so pause,
  // resume and cancel called before the worker has the upload are queued
  // (see UploadHandle._send), never lost.
  _handle(file) {
    const h = new UploadHandle(this, 'u' + (++nextId), file);
    this._handles.set(h.id, h);
    if (this._crashed) queueMicrotask(() => h._event({ kind: 'error', state: 'failed', error: this._crashed }));
    return h;
  }

  // _start posts the start message for h, then what was queued behind it.
  _start(h, file, handle, options) {
    h.file = file;
    h.progress = { ...h.progress, total: file.size };
    this._post({ type: 'start', id: h.id, file, handle: handle || null, options: startOptions(options) });
    h._bound();
  }

  /**
   * Starts uploading a File, or a FileSystemFileHandle (from
   * showOpenFilePicker or a drop), or resumes it when a checkpoint matches.
   * With a handle, a reload or a restarted browser can resume without the
   * file being picked again. options.relativePath is the file's path below
   * a picked or dropped folder ("photos/2024/a.jpg", ending with its name),
   * which the backend may put in the key.
   */
  upload(fileOrHandle, options) {
    const isHandle = typeof FileSystemFileHandle !== 'undefined' && fileOrHandle instanceof FileSystemFileHandle;
    const file = isHandle ? null : fileOrHandle;
    const h = this._handle(file || { name: fileOrHandle.name, size: 0 });
    h._waitingIdentity = true;
    // After the caller had a chance to listen.
    if (this._authWaiting) queueMicrotask(() => h._waitingIdentity && h._event({ ...h.progress, kind: 'state', state: 'unauthenticated' }));
    Promise.all([this._whoami(), isHandle ? fileOrHandle.getFile() : file])
      .then(([, f]) => { h._waitingIdentity = false; this._start(h, f, isHandle ? fileOrHandle : null, options); }, (err) => h._fail(err));
    return h;
  }

  /**
   * Continues a pending upload. Given a pending entry that kept its file
   * handle, no re-pick is needed: the browser may ask the user for read
   * permission (call this from a click). A verify-only entry (its object
   * stored, only the backend's verification left) resumes without its file
   * and sends no data. Given a File, the file is matched
   * to its checkpoint by identity and fingerprint. A pending entry without
   * a kept handle cannot be resumed without its file: the handle fails with
   * file_needed.
   */
  resume(entryOrFile, options) {
    if (entryOrFile instanceof Blob) return this.upload(entryOrFile, options);
    const entry = entryOrFile || {};
    const h = this._handle({ name: entry.name, size: entry.size });
    h._entry = entry;
    if (entry.bytesDone !== undefined) h.progress = { ...h.progress, bytesConfirmed: entry.bytesDone };
    if (!entry.handle && entry.verifyOnly && entry.id) {
      // Its object is stored: only the backend's verification is left,
      // which needs no file and sends no data.
      h.progress = { ...h.progress, total: entry.size, bytesConfirmed: entry.size };
      h._waitingIdentity = true;
      this._whoami().then(() => {
        h._waitingIdentity = false;
        this._post({ type: 'resumeStored', id: h.id, key: entry.id });
        h._bound();
      }, (err) => h._fail(err));
      return h;
    }
    if (!entry.handle) {
      queueMicrotask(() => h._fail(Object.assign(new Error((entry.name || 'this upload') + ' has no kept file handle: pick the file again to resume'), { code: 'file_needed' })));
      return h;
    }
    const handle = entry.handle;
    (async () => {
      // Only Chromium has the permission calls (File System Access);
      // Firefox's and Safari's handles (OPFS) are readable by their
      // origin without them, so reading decides.
      if (typeof handle.queryPermission === 'function') {
        let perm = await handle.queryPermission({ mode: 'read' });
        if (perm !== 'granted' && typeof handle.requestPermission === 'function') perm = await handle.requestPermission({ mode: 'read' });
        if (perm !== 'granted') throw Object.assign(new Error('read permission for ' + entry.name + ' was not granted: pick the file again to resume'), { code: 'permission_denied' });
      }
      let f;
      try {
        f = await handle.getFile();
      } catch (err) {
        throw Object.assign(new Error(entry.name + ' cannot be read through its kept handle (' + err.name + ': ' + err.message + '): pick the file again to resume'), { code: 'repick_needed' });
      }
      h._waitingIdentity = true;
      await this._whoami();
      h._waitingIdentity = false;
      this._start(h, f, handle, { relativePath: entry.path });
    })().catch((err) => h._fail(err));
    return h;
  }

  /**
   * Abandons a pending upload without its file: the backend aborts its
   * multipart upload, and its checkpoint and kept handle are deleted.
   * Rejects with code already_uploading if it runs in this uploader (cancel
   * its handle), locked if another tab drives it.
   */
  discard(entry) { return this._call('discard', { key: entry && entry.id }); }

  /** The uploads that can be resumed, from IndexedDB. */
  pending() { return this._call('pending', {}); }

  /** Stops the worker; uploads in flight stop, their checkpoints stay. */
  terminate() { this._worker.terminate(); }
}

// startOptions keeps what the worker may use of upload()'s options: only
// plain strings cross, never a caller's object.
function startOptions(options) {
  const o = options || {};
  const out = {};
  if (typeof o.relativePath === 'string' && o.relativePath) out.relativePath = o.relativePath;
  if (o.meta && typeof o.meta === 'object') {
    const meta = {};
    for (const [k, v] of Object.entries(o.meta)) if (typeof v === 'string') meta[k] = v;
    out.meta = meta;
  }
  return Object.keys(out).length ? out : null;
}

class UploadHandle extends EventTarget {
  constructor(uploader, id, file) {
    super();
    this._u = uploader;
    this.id = id;
    this.file = file;
    this.state = 'queued';
    this.progress = { bytesConfirmed: 0, bytesSending: 0, total: file.size || 0, bytesPerSec: 0, etaSeconds: 0 };
    // Control messages wait here until the start message is posted.
    this._queue = [];
  }

  /**
   * Settles with the upload's result, or rejects with its error. Made on
   * first use: a long queue of handles nobody awaits carries no promises.
   */
  get done() {
    if (!this._donePromise) {
      this._donePromise = new Promise((resolve, reject) => { this._done = { resolve, reject }; });
      this._donePromise.catch(() => {}); // a caller may only listen to events
      if (this._outcome) this._settle(this._outcome);
    }
    return this._donePromise;
  }

  _settle(outcome) {
    this._outcome = outcome;
    if (!this._done) return;
    if (outcome.err) this._done.reject(outcome.err);
    else this._done.resolve(outcome.result);
  }

  _bound() {
    const q = this._queue;
    this._queue = null;
    for (const f of q) f();
  }

  // _send posts a control message once the worker has (or is being sent)
  // the upload; before that it waits in order behind the start message.
  _send(f) {
    if (this._queue) this._queue.push(f);
    else f();
  }

  _fail(err) {
    // A DOMException's legacy numeric code is no code a page can act on:
    // its name (NotFoundError, NotReadableError) is.
    this._event({ kind: 'error', state: 'failed', error: { message: err.message, code: typeof err.code === 'string' && err.code ? err.code : err.name } });
  }

  _event(ev) {
    if (this._final) return;
    if (ev.kind === 'warning') {
      // A lost feature (no resume after a reload, no cross-tab guard), not
      // a failure: the progress figures stay as they are.
      this.dispatchEvent(new CustomEvent('warning', { detail: ev.warning || {} }));
      return;
    }
    // Only events with byte counts replace the figures: an error raised
    // before the engine had the upload keeps the sizes shown so far.
    this.progress = typeof ev.bytesConfirmed === 'number' ? ev : { ...this.progress, kind: ev.kind, state: ev.state || this.progress.state, error: ev.error };
    if (ev.state && ev.state !== this.state) {
      this.state = ev.state;
      this.dispatchEvent(new CustomEvent('state', { detail: this.progress }));
    }
    if (ev.kind === 'progress') this.dispatchEvent(new CustomEvent('progress', { detail: ev }));
    if (ev.kind === 'retry') this.dispatchEvent(new CustomEvent('retry', { detail: ev }));
    if (ev.kind === 'error' || this.state === 'failed') {
      const err = codedError(ev.error || { message: ev.message || 'upload failed', code: ev.code });
      this.state = 'failed';
      this._end();
      this.dispatchEvent(new CustomEvent('error', { detail: err }));
      this._settle({ err });
    } else if (this.state === 'done') {
      this._end();
      this.dispatchEvent(new CustomEvent('done', { detail: ev.result }));
      this._settle({ result: ev.result });
    } else if (this.state === 'canceled') {
      this._end();
      this._settle({ err: Object.assign(new Error('upload canceled'), { code: 'canceled' }) });
    }
  }

  // _end: no more events come; the uploader lets the handle go (a long
  // queue must not keep every finished handle alive).
  _end() {
    this._final = true;
    this._u._handles.delete(this.id);
    if (this._queue) {
      // Ended before the worker had it (whoami refused, an unreadable
      // handle): what waited for the start settles now.
      this._unstarted = true;
      this._bound();
    }
  }

  pause() { this._send(() => this._u._post({ type: 'pause', id: this.id })); }
  resume() { this._send(() => this._u._post({ type: 'resume', id: this.id })); }
  /**
   * Aborts requests in flight, aborts the upload at OSS, removes the
   * checkpoint. On a failed upload it discards what the failure left; on a
   * finished one it does nothing.
   */
  cancel() {
    if (this.state === 'done' || this.state === 'canceled') return Promise.resolve();
    if (this._unstarted) {
      // Failed before the worker had it: a pending entry that could not be
      // resumed is discarded; anything else left nothing behind.
      return this._entry ? this._u.discard(this._entry) : Promise.resolve();
    }
    return new Promise((resolve, reject) => this._send(() => this._u._call('cancel', { id: this.id }).then(resolve, reject)));
  }
}

// codedError is an Error from {message, code, ...} (the engine's error
// details are kept as properties).
function codedError(info) {
  if (typeof info === 'string') return new Error(info);
  return Object.assign(new Error(info.message || 'upload failed'), info);
}
