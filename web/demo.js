// The lab page (lab.html): the page module's plain API without the widget.
// Pick or drop files, watch them upload, pause, resume, cancel; after a
// reload, see what can be resumed. Exposes window.ossupDemo for the browser
// tests and the console. The page at / is the widget (index.html).

const fmtBytes = (n) => {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
};
const fmtTime = (s) => (!s || !isFinite(s) ? '' : s < 90 ? Math.ceil(s) + ' s' : Math.ceil(s / 60) + ' min');

// plain turns an upload error into a sentence a person can act on; the
// request id stays visible for support.
const plain = (err) => {
  const byCode = {
    locked: 'This file is already uploading in another tab or window.',
    already_uploading: 'This file is already uploading in this page.',
    engine_crashed: 'The upload engine stopped. Reload the page to continue where it stopped.',
    file_needed: 'Pick the same file again to continue.',
    CORSExposeHeaders: err.message,
    NetworkError: 'The connection failed. Check the network, then press Resume.',
    AccessDenied: 'The storage service refused this upload (permission denied).',
    unauthenticated: 'You are not signed in, or your session expired. Sign in again and retry.',
    upload_refused: err.message,
    permission_denied: 'The browser was not allowed to read the file again. Pick it instead.',
    ticket_expired: 'This upload is too old to continue. Start it again.',
    InconsistentCRC: 'The file arrived damaged several times in a row. Try again later.',
    InternalError: 'The storage service had a problem. Try again in a moment.',
    ServiceUnavailable: 'The storage service is busy. Try again in a moment.',
  };
  // A hint says what to check, e.g. the CORS rule a request that never got
  // an answer may be refused by (a page cannot tell that from the network).
  const text = (byCode[err.code] || err.message) + (err.hint && byCode[err.code] ? ' ' + err.hint : '');
  return text + (err.requestId ? ' (request id ' + err.requestId + ')' : '');
};

const words = {
  queued: 'waiting', checking: 'checking', uploading: 'uploading', paused: 'paused', unauthenticated: 'waiting for sign-in',
  completing: 'completing (verifying the object)', done: 'done', failed: 'failed', canceled: 'canceled',
};

export async function startDemo(assets) {
  const { createUploader } = await import(assets.module);
  const status = document.getElementById('engine-status');
  const uploader = createUploader({ assets });
  const demo = { uploader, handles: [], results: [], errors: [], warnings: [] };
  window.ossupDemo = demo;
  try {
    status.textContent = 'engine ready ' + await uploader.ready;
  } catch (e) {
    status.textContent = 'engine failed to start: ' + e.message;
    return;
  }
  const list = document.getElementById('uploads');
  const add = (fileOrHandle) => track(uploader.upload(fileOrHandle));
  const track = (h) => {
    demo.handles.push(h);
    const li = document.createElement('li');
    li.className = 'upload';
    li.dataset.id = h.id;
    li.innerHTML = '<strong></strong> <span class="state"></span><div class="bar"><div></div></div>' +
      '<div class="meta"></div><div class="err"></div>' +
      '<button class="pause">Pause</button><button class="resume">Resume</button><button class="cancel">Cancel</button>';
    li.querySelector('strong').textContent = h.file.name;
    list.appendChild(li);
    const render = () => {
      const p = h.progress;
      li.querySelector('.state').textContent = words[h.state] || h.state;
      // The bar shows only what OSS confirmed; 100 % only once the object exists.
      const frac = p.total ? p.bytesConfirmed / p.total : 0;
      li.querySelector('.bar>div').style.width = (h.state === 'done' ? 100 : Math.min(frac * 100, 99.9)) + '%';
      li.querySelector('.meta').textContent = fmtBytes(p.bytesConfirmed) + ' of ' + fmtBytes(p.total) +
        (p.bytesPerSec ? ' · ' + fmtBytes(p.bytesPerSec) + '/s' : '') + (p.etaSeconds ? ' · ' + fmtTime(p.etaSeconds) + ' left' : '');
    };
    for (const ev of ['state', 'progress', 'retry']) h.addEventListener(ev, render);
    // A warning costs a feature (resume after a reload, the second-tab
    // guard), never the upload: shown, not an error.
    h.addEventListener('warning', (e) => {
      demo.warnings.push({ id: h.id, code: e.detail.code, message: e.detail.message });
      li.querySelector('.err').textContent = e.detail.message;
    });
    h.addEventListener('error', (e) => {
      const err = e.detail;
      demo.errors.push({ id: h.id, message: err.message, code: err.code, requestId: err.requestId, hint: err.hint });
      li.querySelector('.err').textContent = plain(err);
      render();
    });
    h.done.then((r) => { demo.results.push({ id: h.id, name: h.file.name, ...r }); render(); }, () => {})
      .finally(() => demo.renderPending && demo.renderPending());
    li.querySelector('.pause').onclick = () => h.pause();
    li.querySelector('.resume').onclick = () => h.resume();
    li.querySelector('.cancel').onclick = () => h.cancel();
    render();
  };
  demo.add = add;
  demo.resume = (entry) => track(uploader.resume(entry));
  const input = document.getElementById('files');
  input.addEventListener('change', () => { [...input.files].forEach(add); input.value = ''; });
  const drop = document.getElementById('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    // Items are only valid during the event: ask for handles (Chromium) and
    // files synchronously, then wait. A handle lets a reload resume without
    // a re-pick.
    const items = [...e.dataTransfer.items].filter((i) => i.kind === 'file');
    const files = items.map((i) => i.getAsFile());
    const handles = items.map((i) => (i.getAsFileSystemHandle ? i.getAsFileSystemHandle().catch(() => null) : null));
    for (let i = 0; i < items.length; i++) {
      const handle = await handles[i];
      add(handle && handle.kind === 'file' ? handle : files[i]);
    }
  });
  if (window.showOpenFilePicker) {
    const btn = document.createElement('button');
    btn.id = 'pick-handles';
    btn.textContent = 'Pick files (resume after a reload without picking again)';
    btn.onclick = async () => {
      const picked = await window.showOpenFilePicker({ multiple: true }).catch(() => []);
      picked.forEach(add);
    };
    drop.after(btn);
  }
  // The resumable list is redrawn whenever an upload ends, so it never
  // shows one that was finished, replaced or discarded.
  const renderPending = async () => {
    const pending = await uploader.pending().catch(() => []);
    demo.pending = pending;
    const ul = document.getElementById('pending');
    ul.replaceChildren();
    document.getElementById('resumable').hidden = pending.length === 0;
    for (const p of pending) {
      const li = document.createElement('li');
      li.textContent = p.name + ' — ' + fmtBytes(p.bytesDone) + ' of ' + fmtBytes(p.size) + ' uploaded ';
      if (p.handle || p.verifyOnly) {
        const b = document.createElement('button');
        // A verify-only entry: stored, only the backend's check is left.
        b.textContent = p.handle ? 'Resume' : 'Finish';
        b.onclick = () => { b.disabled = true; track(uploader.resume(p)); };
        li.appendChild(b);
      } else {
        li.appendChild(document.createTextNode('(pick the same file again to continue) '));
      }
      // Discard: the backend aborts the stored parts, the checkpoint goes.
      const d = document.createElement('button');
      d.textContent = 'Discard';
      d.onclick = () => { d.disabled = true; uploader.discard(p).catch((err) => { li.append(' ' + plain(err)); }).finally(renderPending); };
      li.appendChild(d);
      ul.appendChild(li);
    }
  };
  demo.renderPending = renderPending;
  await renderPending();
}
