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

class Uploader {
  constructor(options) {
    const assets = options.assets || {};
    // Literal `new URL('./file', import.meta.url)`: bundlers (Vite, webpack 5,
    // Rollup, Parcel) recognise it and copy the file into the build under a
    // hashed name, so the package needs no bundler configuration. ?no-inline:
    // Vite inlines files under 4 KiB as data: URLs, and a worker from a data:
    // URL has an opaque origin (no IndexedDB, no requests with cookies).
    const worker = assets.worker || new URL('./ossup-worker.js?no-inline', import.meta.url).href;
    const q = new URLSearchParams({
      engine: assets.engine || new URL('./engine.wasm', import.meta.url).href,
      glue: assets.glue || new URL('./wasm_exec.js', import.meta.url).href,
    });
    this._worker = new Worker(worker + (worker.includes('?') ? '&' : '?') + q);
    this._handles = new Map();
    this._replies = new Map();
    const engineReady = new Promise((resolve, reject) => { this._ready = { resolve, reject }; });
    this._worker.onmessage = (e) => this._message(e.data);
    // The worker failing to load, or an exception nothing in it caught:
    // the engine's state is unknown, so every open upload fails.
    this._worker.onerror = (e) => this._crash('engine worker failed: ' + (e.message || 'error'));
    const backend = new URL(options.backend || location.origin, location.href);
    const crossOrigin = backend.origin !== location.origin;
    // Who we upload as is settled once, before any upload: bad credentials
    // fail here, and a dev identity (a cookie) exists before parallel
    // uploads could each mint their own.
    this.user = fetch(backend.href.replace(/\/$/, '') + '/api/v1/whoami', {
      headers: options.headers || {}, credentials: crossOrigin ? 'include' : 'same-origin',
    }).then(async (r) => {
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw Object.assign(new Error((body.error && body.error.message) || 'backend answered ' + r.status), body.error || {});
      return body;
    });
    this.user.catch(() => {});
    this.ready = Promise.all([engineReady, this.user]).then(([version]) => version);
    this._worker.postMessage({
      type: 'configure',
      options: {
        backend: backend.href.replace(/\/$/, ''),
        headers: options.headers || {},
        withCredentials: crossOrigin,
        concurrency: options.concurrency,
        maxBytesInFlight: options.maxBytesInFlight,
        patienceSeconds: options.patienceSeconds,
      },
    });
  }

  _message(m) {
    switch (m.type) {
      case 'ready': this.version = m.version; this._ready.resolve(m.version); break;
      case 'error': this._ready.reject(new Error(m.message)); break;
      case 'event': { const h = this._handles.get(m.id); if (h) h._event(m.event); break; }
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
  _start(h, file, handle) {
    h.file = file;
    h.progress = { ...h.progress, total: file.size };
    this._post({ type: 'start', id: h.id, file, handle: handle || null });
    h._bound();
  }

  /**
   * Starts uploading a File, or a FileSystemFileHandle (from
   * showOpenFilePicker or a drop), or resumes it when a checkpoint matches.
   * With a handle, a reload or a restarted browser can resume without the
   * file being picked again.
   */
  upload(fileOrHandle) {
    const isHandle = typeof FileSystemFileHandle !== 'undefined' && fileOrHandle instanceof FileSystemFileHandle;
    const file = isHandle ? null : fileOrHandle;
    const h = this._handle(file || { name: fileOrHandle.name, size: 0 });
    Promise.all([this.user, isHandle ? fileOrHandle.getFile() : file])
      .then(([, f]) => this._start(h, f, isHandle ? fileOrHandle : null), (err) => h._fail(err));
    return h;
  }

  /**
   * Continues a pending upload. Given a pending entry that kept its file
   * handle, no re-pick is needed: the browser may ask the user for read
   * permission (call this from a click). Given a File, the file is matched
   * to its checkpoint by identity and fingerprint. A pending entry without
   * a kept handle cannot be resumed without its file: the handle fails with
   * file_needed.
   */
  resume(entryOrFile) {
    if (entryOrFile instanceof Blob) return this.upload(entryOrFile);
    const entry = entryOrFile || {};
    const h = this._handle({ name: entry.name, size: entry.size });
    h._entry = entry;
    if (entry.bytesDone !== undefined) h.progress = { ...h.progress, bytesConfirmed: entry.bytesDone };
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
      await this.user;
      this._start(h, f, handle);
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

class UploadHandle extends EventTarget {
  constructor(uploader, id, file) {
    super();
    this._u = uploader;
    this.id = id;
    this.file = file;
    this.state = 'queued';
    this.progress = { bytesConfirmed: 0, bytesSending: 0, total: file.size || 0, bytesPerSec: 0, etaSeconds: 0 };
    this.done = new Promise((resolve, reject) => { this._done = { resolve, reject }; });
    this.done.catch(() => {}); // a caller may only listen to events
    // Control messages wait here until the start message is posted.
    this._queue = [];
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
    this._event({ kind: 'error', state: 'failed', error: { message: err.message, code: err.code || err.name } });
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
      this._done.reject(err);
    } else if (this.state === 'done') {
      this._end();
      this.dispatchEvent(new CustomEvent('done', { detail: ev.result }));
      this._done.resolve(ev.result);
    } else if (this.state === 'canceled') {
      this._end();
      this._done.reject(Object.assign(new Error('upload canceled'), { code: 'canceled' }));
    }
  }

  // _end: no more events come; the uploader lets the handle go (a long
  // queue must not keep every finished handle alive).
  _end() {
    this._final = true;
    this._u._handles.delete(this.id);
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
    if (this._final && this._queue) {
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
