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
    this._worker.onerror = (e) => this._ready.reject(new Error('engine worker failed: ' + e.message));
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
        if (r) (m.error === undefined ? r.resolve(m.value) : r.reject(new Error(m.error)));
        break;
      }
      default: break;
    }
  }

  _call(type, fields) {
    const reqId = ++nextId;
    return new Promise((resolve, reject) => {
      this._replies.set(reqId, { resolve, reject });
      this._worker.postMessage({ type, reqId, ...fields });
    });
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
    const h = new UploadHandle(this, 'u' + (++nextId), file || { name: fileOrHandle.name, size: 0 });
    this._handles.set(h.id, h);
    const fail = (err) => h._event({ kind: 'error', state: 'failed', error: { message: err.message, code: err.code || err.name } });
    Promise.all([this.user, isHandle ? fileOrHandle.getFile() : file])
      .then(([, f]) => {
        h.file = f;
        h.progress.total = f.size;
        this._worker.postMessage({ type: 'start', id: h.id, file: f, handle: isHandle ? fileOrHandle : null });
      }, fail);
    return h;
  }

  /**
   * Continues a pending upload. Given a pending entry that kept its file
   * handle, no re-pick is needed: the browser may ask the user for read
   * permission (call this from a click). Given a File, the file is matched
   * to its checkpoint by identity and fingerprint.
   */
  resume(entryOrFile) {
    if (entryOrFile && entryOrFile.handle && !(entryOrFile instanceof Blob)) {
      const handle = entryOrFile.handle;
      const h = new UploadHandle(this, 'u' + (++nextId), { name: entryOrFile.name, size: entryOrFile.size });
      this._handles.set(h.id, h);
      (async () => {
        // Only Chromium has the permission calls (File System Access);
        // Firefox's and Safari's handles (OPFS) are readable by their
        // origin without them, so reading decides.
        if (typeof handle.queryPermission === 'function') {
          let perm = await handle.queryPermission({ mode: 'read' });
          if (perm !== 'granted' && typeof handle.requestPermission === 'function') perm = await handle.requestPermission({ mode: 'read' });
          if (perm !== 'granted') throw Object.assign(new Error('read permission for ' + entryOrFile.name + ' was not granted: pick the file again to resume'), { code: 'permission_denied' });
        }
        let f;
        try {
          f = await handle.getFile();
        } catch (err) {
          throw Object.assign(new Error(entryOrFile.name + ' cannot be read through its kept handle (' + err.name + ': ' + err.message + '): pick the file again to resume'), { code: 'repick_needed' });
        }
        await this.user;
        h.file = f;
        h.progress.total = f.size;
        this._worker.postMessage({ type: 'start', id: h.id, file: f, handle });
      })().catch((err) => h._event({ ...h.progress, kind: 'error', state: 'failed', error: { message: err.message, code: err.code || err.name } }));
      return h;
    }
    return this.upload(entryOrFile);
  }

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
    this.progress = { bytesConfirmed: 0, bytesSending: 0, total: file.size, bytesPerSec: 0, etaSeconds: 0 };
    this.done = new Promise((resolve, reject) => { this._done = { resolve, reject }; });
    this.done.catch(() => {}); // a caller may only listen to events
  }

  _event(ev) {
    this.progress = ev;
    if (ev.state && ev.state !== this.state) {
      this.state = ev.state;
      this.dispatchEvent(new CustomEvent('state', { detail: ev }));
    }
    if (ev.kind === 'progress') this.dispatchEvent(new CustomEvent('progress', { detail: ev }));
    if (ev.kind === 'retry') this.dispatchEvent(new CustomEvent('retry', { detail: ev }));
    if (ev.kind === 'error' || this.state === 'failed') {
      const err = Object.assign(new Error((ev.error && ev.error.message) || ev.message || 'upload failed'), ev.error || { code: ev.code });
      this.state = 'failed';
      this.dispatchEvent(new CustomEvent('error', { detail: err }));
      this._done.reject(err);
    } else if (this.state === 'done') {
      this.dispatchEvent(new CustomEvent('done', { detail: ev.result }));
      this._done.resolve(ev.result);
    } else if (this.state === 'canceled') {
      this._done.reject(Object.assign(new Error('upload canceled'), { code: 'canceled' }));
    }
  }

  pause() { this._u._worker.postMessage({ type: 'pause', id: this.id }); }
  resume() { this._u._worker.postMessage({ type: 'resume', id: this.id }); }
  /** Aborts requests in flight, aborts the upload at OSS, removes the checkpoint. */
  cancel() { return this._u._call('cancel', { id: this.id }); }
}
