// <ossup-uploader>: a drop-in upload widget built only on the public API of
// ossup.js (createUploader, upload handles and their events, pending()).
//
//   <script type="module" src="ossup/ossup-uploader.js"></script>
//   <ossup-uploader backend="https://uploads.example.com"></ossup-uploader>
//
// No framework: a custom element with a Shadow DOM, themed through CSS
// custom properties (--ossup-accent, --ossup-radius, ...) and ::part()s
// (dropzone, item, progress, bar, button, pause, ...). Strings in English
// and Simplified Chinese, chosen by the lang attribute or navigator.language
// and overridable through the strings property. See ossup-uploader.d.ts.

import { createUploader } from './ossup.js';

const STRINGS = {
  en: {
    drop: 'Drop files or folders here', pickFiles: 'Choose files', pickFolder: 'Choose folder',
    pause: 'Pause', resume: 'Resume', cancel: 'Cancel', retry: 'Retry', remove: 'Remove', open: 'Open',
    actionOn: '{action} {name}', progressOf: 'Upload progress of {name}', totalLabel: 'Total upload progress',
    total: '{done} of {count} uploaded · {percent}%', sizeOf: '{done} of {total}', speed: '{rate}/s', left: '{time} left',
    seconds: '{n} s', minutes: '{n} min', hours: '{n} h', announce: '{name}: {state}',
    repick: 'Pick the same file again to continue.', requestId: 'request id {id}', folder: 'Folder {name}: {count} files',
    states: {
      queued: 'Waiting', checking: 'Checking', uploading: 'Uploading', paused: 'Paused', unauthenticated: 'Waiting for sign-in', completing: 'Verifying',
      done: 'Done', failed: 'Failed', canceled: 'Canceled', resumable: 'Can be resumed',
    },
    errors: {
      locked: 'This file is already uploading in another tab or window.',
      NetworkError: 'The connection failed. Check the network, then retry.',
      AccessDenied: 'The storage service refused this upload (permission denied).',
      unauthenticated: 'You are not signed in, or your session expired. Sign in again and retry.',
      permission_denied: 'The browser was not allowed to read the file again. Pick it instead.',
      repick_needed: 'The file cannot be read again. Pick it instead.',
      ticket_expired: 'This upload is too old to continue. Start it again.',
      InconsistentCRC: 'The file arrived damaged several times in a row. Try again later.',
      InternalError: 'The storage service had a problem. Try again in a moment.',
      ServiceUnavailable: 'The storage service is busy. Try again in a moment.',
      object_mismatch: 'The stored object is not what the server expected, so it was removed. Retry.',
      upload_refused: 'The server refused this file: {message}',
      fallback: 'The upload failed: {message}',
    },
  },
  'zh-CN': {
    drop: '将文件或文件夹拖放到此处', pickFiles: '选择文件', pickFolder: '选择文件夹',
    pause: '暂停', resume: '继续', cancel: '取消', retry: '重试', remove: '移除', open: '打开',
    actionOn: '{action}：{name}', progressOf: '{name} 的上传进度', totalLabel: '总上传进度',
    total: '已上传 {done}/{count} 个文件 · {percent}%', sizeOf: '{done} / {total}', speed: '{rate}/秒', left: '剩余 {time}',
    seconds: '{n} 秒', minutes: '{n} 分钟', hours: '{n} 小时', announce: '{name}：{state}',
    repick: '请重新选择同一文件以继续上传。', requestId: '请求 ID {id}', folder: '文件夹 {name}：{count} 个文件',
    states: {
      queued: '等待中', checking: '检查中', uploading: '上传中', paused: '已暂停', unauthenticated: '等待登录', completing: '校验中',
      done: '已完成', failed: '失败', canceled: '已取消', resumable: '可继续上传',
    },
    errors: {
      locked: '该文件正在另一个标签页或窗口中上传。',
      NetworkError: '网络连接失败。请检查网络后重试。',
      AccessDenied: '存储服务拒绝了此次上传（无权限）。',
      unauthenticated: '您尚未登录或登录已过期。请重新登录后重试。',
      permission_denied: '浏览器不允许再次读取该文件。请重新选择文件。',
      repick_needed: '无法再次读取该文件。请重新选择文件。',
      ticket_expired: '此上传已过期，无法继续。请重新上传。',
      InconsistentCRC: '文件连续多次传输损坏。请稍后重试。',
      InternalError: '存储服务出现问题。请稍后重试。',
      ServiceUnavailable: '存储服务繁忙。请稍后重试。',
      object_mismatch: '存储的对象与服务器预期不符，已被删除。请重试。',
      upload_refused: '服务器拒绝了此文件：{message}',
      fallback: '上传失败：{message}',
    },
  },
};

// languageOf picks the strings for a BCP 47 tag: every Chinese tag gets the
// Simplified Chinese strings (the only Chinese we ship; closer to a zh-TW
// reader than English), everything else English.
const languageOf = (tag) => (/^zh\b/i.test(tag || '') ? 'zh-CN' : 'en');

const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

const fmtBytes = (n) => {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
};

// Actions offered per state: a finished, canceled or failed upload has no
// Pause/Resume/Cancel, only what still makes sense for it.
const ACTIONS = {
  queued: ['cancel'], checking: ['cancel'], uploading: ['pause', 'cancel'], paused: ['resume', 'cancel'],
  unauthenticated: ['cancel'], completing: [], done: ['remove'], failed: ['retry', 'remove'], canceled: ['remove'], resumable: ['resume', 'remove'],
};

// Thumbnails only for images small enough to decode cheaply.
const THUMB_MAX = 50e6;

const CSS = `
:host{display:block;font:var(--ossup-font,inherit);color:var(--ossup-color,inherit);
  --_accent:var(--ossup-accent,#2563eb);--_radius:var(--ossup-radius,8px);--_border:var(--ossup-border,#94a3b8);
  --_bg:var(--ossup-background,transparent);--_track:var(--ossup-track,#e2e8f0);--_error:var(--ossup-error,#b91c1c);
  --_focus:var(--ossup-focus,#1d4ed8);--_muted:var(--ossup-muted,#475569)}
:host([hidden]){display:none}
.drop{border:2px dashed var(--_border);border-radius:var(--_radius);padding:1.5rem;text-align:center;background:var(--_bg)}
.drop.over{border-color:var(--_accent);background:var(--ossup-drop-over,#eff6ff)}
.drop p{margin:0 0 .75rem}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--_border);border-radius:calc(var(--_radius) / 2);
  background:var(--ossup-button-background,#fff);color:inherit;cursor:pointer;margin:.15rem}
button:focus-visible,a:focus-visible{outline:3px solid var(--_focus);outline-offset:2px}
input{display:none}
ul{list-style:none;padding:0;margin:.75rem 0 0}
li.item{display:flex;gap:.75rem;align-items:flex-start;padding:.6rem;border:1px solid var(--_track);border-radius:var(--_radius);margin:.5rem 0}
li.group{font-weight:600;margin:.75rem 0 .25rem}
.thumb{width:48px;height:48px;flex:none;border-radius:calc(var(--_radius) / 2);background:var(--_track);object-fit:cover}
.main{flex:1;min-width:0}
.name{font-weight:600;overflow-wrap:anywhere}
.size,.detail,.state{color:var(--_muted);font-size:.875em}
.progress{height:8px;background:var(--_track);border-radius:4px;overflow:hidden;margin:.3rem 0}
.bar{height:100%;width:0;background:var(--_accent)}
li[data-state=failed] .bar{background:var(--_error)}
li[data-state=done] .bar{background:var(--ossup-done,#15803d)}
.error{color:var(--_error);margin:.25rem 0 0}
.total{margin:.75rem 0 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[hidden]{display:none!important}
`;

let sheet = null;
// The styles go in a constructed stylesheet: a page whose CSP has no
// 'unsafe-inline' for style-src (ours has none) would block a <style>.
const styles = () => {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
};

const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'part') e.setAttribute('part', v);
    else if (k === 'class') e.className = v;
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
};

/** The widget. Attributes: backend, lang, object-url (a template with {key} and {bucket}). */
export class OssupUploader extends HTMLElement {
  static get observedAttributes() { return ['lang']; }

  constructor() {
    super();
    this._items = [];
    this._strings = null;
    this._uploader = null;
    this.options = {};
    this.objectUrl = null;
    this.meta = null;
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [styles()];
    this._hint = el('p', { part: 'hint' });
    this._pickFiles = el('button', { type: 'button', part: 'button pick-files' });
    this._pickFolder = el('button', { type: 'button', part: 'button pick-folder' });
    this._files = el('input', { type: 'file', multiple: true, tabindex: '-1', 'aria-hidden': 'true', class: 'files' });
    this._folder = el('input', { type: 'file', webkitdirectory: true, multiple: true, tabindex: '-1', 'aria-hidden': 'true', class: 'folder' });
    this._drop = el('div', { part: 'dropzone', class: 'drop' }, this._hint, this._pickFiles, this._pickFolder, this._files, this._folder);
    this._totalBar = el('div', { part: 'bar total-bar', class: 'bar' });
    this._totalProgress = el('div', { part: 'progress total-progress', class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, this._totalBar);
    this._totalText = el('span', { part: 'total-text' });
    this._total = el('div', { part: 'total', class: 'total', hidden: true }, this._totalProgress, this._totalText);
    this._list = el('ul', { part: 'list', role: 'list' });
    this._live = el('div', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', class: 'sr', part: 'announcer' });
    root.append(this._drop, this._total, this._list, this._live);

    this._pickFiles.addEventListener('click', () => this._files.click());
    this._pickFolder.addEventListener('click', () => this._folder.click());
    for (const input of [this._files, this._folder]) {
      input.addEventListener('change', () => {
        // A folder pick names each file's path below the picked folder's
        // parent (photos/2024/a.jpg): that is the relative path kept.
        this.addFiles([...input.files].map((f) => ({ file: f, path: f.webkitRelativePath || '' })));
        input.value = '';
      });
    }
    this._drop.addEventListener('dragover', (e) => { e.preventDefault(); this._drop.classList.add('over'); });
    this._drop.addEventListener('dragleave', () => this._drop.classList.remove('over'));
    this._drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this._drop.classList.remove('over');
      this._dropped(e.dataTransfer).catch((err) => this._announce(err.message));
    });
  }

  connectedCallback() {
    this._applyStrings();
    // Created after the current task, so a page that sets .uploader or
    // .options right after the element is upgraded is heard.
    queueMicrotask(() => { if (this.isConnected) this._init(); });
  }

  disconnectedCallback() {
    for (const it of this._items) if (it.thumb) URL.revokeObjectURL(it.thumb);
  }

  attributeChangedCallback() { if (this._hint) this._applyStrings(); }

  /** The Uploader the widget uses (one is created from backend and options on connect when unset). */
  get uploader() { return this._uploader; }
  set uploader(u) { this._uploader = u; if (this.isConnected) this._init(); }

  /** Overrides of the strings of the chosen language (a partial object, merged). */
  get strings() { return this._s(); }
  set strings(s) { this._strings = s; this._applyStrings(); }

  /** The language of the strings in use: "en" or "zh-CN". */
  get language() { return languageOf(this.getAttribute('lang') || navigator.language); }

  _s() {
    const base = STRINGS[this.language];
    const o = this._strings || {};
    return { ...base, ...o, states: { ...base.states, ...(o.states || {}) }, errors: { ...base.errors, ...(o.errors || {}) } };
  }

  _applyStrings() {
    const s = this._s();
    this._hint.textContent = s.drop;
    this._pickFiles.textContent = s.pickFiles;
    this._pickFolder.textContent = s.pickFolder;
    this._totalProgress.setAttribute('aria-label', s.totalLabel);
    for (const it of this._items) this._render(it);
    this._renderTotal();
  }

  _init() {
    if (this._inited) return;
    this._inited = true;
    if (!this._uploader) {
      const backend = this.getAttribute('backend');
      this._uploader = createUploader({ ...this.options, ...(backend ? { backend } : {}) });
    }
    this._uploader.pending().then((list) => {
      for (const p of list) {
        if (this._items.some((it) => it.pending && it.pending.id === p.id)) continue;
        this._add({ pending: p, name: p.path || p.name, size: p.size, path: p.path || '', state: 'resumable', confirmed: p.bytesDone });
      }
    }, () => {});
  }

  /**
   * Uploads files: Files, FileSystemFileHandles, or { file, path } with the
   * file's path relative to a picked or dropped folder.
   */
  addFiles(list) {
    if (!this._inited) this._init();
    let folder = null;
    for (const x of list) {
      const src = x && (x.file || x);
      const path = (x && x.file && x.path) || '';
      const top = path.includes('/') ? path.slice(0, path.indexOf('/')) : '';
      if (top && (!folder || folder.name !== top)) {
        folder = this._group(top);
      } else if (!top) {
        folder = null;
      }
      const name = src.name;
      // A file that matches a resumable entry continues it (the engine
      // matches its checkpoint): the entry's row is replaced.
      const p = this._items.find((it) => it.pending && !it.handle && it.pending.name === name && (it.pending.path || '') === path && it.size === src.size);
      if (p) this._removeItem(p);
      const it = this._add({ source: src, name: path || name, size: src.size || 0, path, group: folder, state: 'queued', confirmed: 0 });
      if (folder) folder.count++, this._renderGroup(folder);
      this._start(it, () => this._uploader.upload(src, this._options(src, path)));
    }
  }

  // _dropped walks a drop: files directly, folders through
  // webkitGetAsEntry, keeping each file's path below the dropped folder's
  // parent, as a folder pick does. Items are only valid during the event,
  // so entries and handles are taken before any await.
  async _dropped(dt) {
    const items = [...dt.items].filter((i) => i.kind === 'file');
    const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
    const files = items.map((i) => i.getAsFile());
    const handles = items.map((i, n) => (!(entries[n] && entries[n].isDirectory) && i.getAsFileSystemHandle ? i.getAsFileSystemHandle().catch(() => null) : null));
    const out = [];
    for (let n = 0; n < items.length; n++) {
      const entry = entries[n];
      if (entry && entry.isDirectory) {
        await walk(entry, entry.name, out);
        continue;
      }
      // A handle lets a reload resume without a re-pick.
      const h = await handles[n];
      out.push(h && h.kind === 'file' ? h : files[n]);
    }
    this.addFiles(out);
  }

  _group(name) {
    const g = { name, count: 0, li: el('li', { part: 'group', class: 'group', role: 'listitem' }) };
    this._list.append(g.li);
    return g;
  }

  _renderGroup(g) { g.li.textContent = fill(this._s().folder, { name: g.name, count: g.count }); }

  _add(it) {
    it.li = el('li', { part: 'item', class: 'item', role: 'listitem' });
    const file = it.source instanceof Blob ? it.source : null;
    if (file && /^image\//.test(file.type) && file.size <= THUMB_MAX) {
      it.thumb = URL.createObjectURL(file);
      it.li.append(el('img', { part: 'thumbnail', class: 'thumb', alt: '', src: it.thumb }));
    } else {
      it.li.append(el('span', { part: 'thumbnail placeholder', class: 'thumb', 'aria-hidden': 'true' }));
    }
    it.nameEl = el('span', { part: 'name', class: 'name' });
    it.sizeEl = el('span', { part: 'size', class: 'size' });
    it.bar = el('div', { part: 'bar', class: 'bar' });
    it.progress = el('div', { part: 'progress', class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }, it.bar);
    it.stateEl = el('span', { part: 'state', class: 'state' });
    it.detailEl = el('span', { part: 'detail', class: 'detail' });
    it.errorEl = el('p', { part: 'error', class: 'error', hidden: true });
    it.link = el('a', { part: 'link', target: '_blank', rel: 'noopener', hidden: true });
    it.keyEl = el('span', { part: 'key', class: 'detail', hidden: true });
    it.buttons = {};
    const actions = el('div', { part: 'actions', class: 'actions' });
    for (const a of ['pause', 'resume', 'cancel', 'retry', 'remove']) {
      const b = el('button', { type: 'button', part: 'button ' + a, 'data-action': a, hidden: true });
      b.addEventListener('click', () => this._act(it, a));
      it.buttons[a] = b;
      actions.append(b);
    }
    it.li.append(el('div', { class: 'main' }, it.nameEl, ' ', it.sizeEl,
      it.progress, it.stateEl, ' ', it.detailEl, it.errorEl, it.link, it.keyEl), actions);
    const after = it.group && this._lastOf(it.group);
    if (after) after.after(it.li);
    else this._list.append(it.li);
    this._items.push(it);
    this._render(it);
    this._renderTotal();
    return it;
  }

  // _options are upload()'s options for a file: its folder path and the
  // application metadata the page gives (the meta property: an object, or
  // a function of { file, path }).
  _options(file, path) {
    const meta = typeof this.meta === 'function' ? this.meta({ file, path }) : this.meta;
    const o = {};
    if (path) o.relativePath = path;
    if (meta) o.meta = meta;
    return o;
  }

  _lastOf(g) {
    const inGroup = this._items.filter((x) => x.group === g);
    return inGroup.length ? inGroup[inGroup.length - 1].li : g.li;
  }

  _start(it, begin) {
    const h = begin();
    it.handle = h;
    it.error = null;
    it.result = null;
    const mine = () => it.handle === h;
    const update = () => { if (mine()) { it.state = h.state; it.confirmed = h.progress.bytesConfirmed || 0; if (h.progress.total) it.size = h.progress.total; this._render(it); this._renderTotal(); } };
    h.addEventListener('state', () => {
      if (!mine()) return;
      update();
      if (h.state !== 'failed') this._announce(fill(this._s().announce, { name: it.name, state: this._s().states[h.state] || h.state }));
    });
    h.addEventListener('progress', update);
    h.addEventListener('error', (e) => {
      if (!mine()) return;
      it.error = e.detail;
      update();
      this._announce(fill(this._s().announce, { name: it.name, state: this._s().states.failed }) + ' ' + this._plain(e.detail));
      this._emit('ossup-error', { file: h.file, path: it.path, error: e.detail });
    });
    h.done.then((result) => {
      if (!mine()) return;
      it.result = result;
      it.state = 'done';
      update();
      this._emit('ossup-done', { file: h.file, path: it.path, result, url: this._url(result) });
    }, () => {});
    this._emit('ossup-add', { file: it.source, path: it.path, handle: h });
    update();
  }

  _act(it, action) {
    const row = it.li;
    switch (action) {
      case 'pause': it.handle.pause(); break;
      case 'resume':
        if (it.handle) it.handle.resume();
        else if (it.pending) this._start(it, () => this._uploader.resume(it.pending));
        break;
      case 'cancel': it.handle.cancel().catch((err) => this._announce(err.message)); break;
      case 'retry': {
        const f = it.handle.file && it.handle.file.size === it.size ? it.handle.file : it.source;
        this._start(it, () => this._uploader.upload(f, this._options(f, it.path)));
        break;
      }
      case 'remove': {
        const next = row.nextElementSibling || row.previousElementSibling;
        this._removeItem(it);
        const target = next && next.querySelector('button:not([hidden])');
        (target || this._pickFiles).focus();
        return;
      }
      default: return;
    }
    this._render(it);
  }

  _removeItem(it) {
    if (it.thumb) URL.revokeObjectURL(it.thumb);
    it.li.remove();
    this._items = this._items.filter((x) => x !== it);
    if (it.group && !this._items.some((x) => x.group === it.group)) it.group.li.remove();
    this._renderTotal();
  }

  _render(it) {
    const s = this._s();
    const state = it.state;
    it.li.dataset.state = state;
    it.nameEl.textContent = it.name;
    it.sizeEl.textContent = fmtBytes(it.size);
    // Only what OSS confirmed counts; 100 % once the object exists.
    const pct = state === 'done' ? 100 : it.size ? Math.min(99, Math.floor((it.confirmed / it.size) * 100)) : 0;
    it.bar.style.width = pct + '%';
    it.progress.setAttribute('aria-valuenow', String(pct));
    it.progress.setAttribute('aria-valuetext', fill(s.sizeOf, { done: fmtBytes(state === 'done' ? it.size : it.confirmed), total: fmtBytes(it.size) }));
    it.progress.setAttribute('aria-label', fill(s.progressOf, { name: it.name }));
    it.stateEl.textContent = s.states[state] || state;
    const p = it.handle && it.handle.progress;
    it.detailEl.textContent = state === 'uploading' && p && p.bytesPerSec
      ? fill(s.speed, { rate: fmtBytes(p.bytesPerSec) }) + (p.etaSeconds ? ' · ' + fill(s.left, { time: this._time(p.etaSeconds) }) : '')
      : state === 'resumable' ? fill(s.sizeOf, { done: fmtBytes(it.confirmed), total: fmtBytes(it.size) }) + (it.pending.handle ? '' : ' · ' + s.repick)
        : '';
    it.errorEl.hidden = !(state === 'failed' && it.error);
    it.errorEl.textContent = it.error ? this._plain(it.error) : '';
    const url = state === 'done' && it.result ? this._url(it.result) : '';
    it.link.hidden = !url;
    if (url) {
      it.link.href = url;
      it.link.textContent = s.open;
      it.link.setAttribute('aria-label', fill(s.actionOn, { action: s.open, name: it.name }));
    }
    it.keyEl.hidden = !(state === 'done' && it.result && !url);
    it.keyEl.textContent = it.result ? it.result.key : '';
    const allowed = (ACTIONS[state] || []).filter((a) => a !== 'resume' || state !== 'resumable' || it.pending.handle);
    const focused = this.shadowRoot.activeElement;
    let lostFocus = false;
    for (const [a, b] of Object.entries(it.buttons)) {
      const show = allowed.includes(a);
      if (!show && focused === b) lostFocus = true;
      b.hidden = !show;
      b.textContent = s[a];
      b.setAttribute('aria-label', fill(s.actionOn, { action: s[a], name: it.name }));
    }
    // A button that disappears under the keyboard (Pause becoming Resume)
    // hands focus to the row's next action rather than to the page.
    if (lostFocus) {
      const next = it.li.querySelector('.actions button:not([hidden])') || (url ? it.link : null);
      (next || this._pickFiles).focus();
    }
  }

  _renderTotal() {
    const items = this._items.filter((it) => it.state !== 'canceled' && it.state !== 'resumable');
    this._total.hidden = items.length === 0;
    const total = items.reduce((n, it) => n + it.size, 0);
    const done = items.reduce((n, it) => n + (it.state === 'done' ? it.size : Math.min(it.confirmed, it.size)), 0);
    const count = items.length;
    const finished = items.filter((it) => it.state === 'done').length;
    const pct = count && finished === count ? 100 : total ? Math.min(99, Math.floor((done / total) * 100)) : 0;
    this._totalBar.style.width = pct + '%';
    this._totalProgress.setAttribute('aria-valuenow', String(pct));
    this._totalText.textContent = fill(this._s().total, { done: finished, count, percent: pct });
    this._totalProgress.setAttribute('aria-valuetext', this._totalText.textContent);
  }

  _time(sec) {
    const s = this._s();
    if (sec < 90) return fill(s.seconds, { n: Math.ceil(sec) });
    if (sec < 5400) return fill(s.minutes, { n: Math.ceil(sec / 60) });
    return fill(s.hours, { n: Math.round(sec / 360) / 10 });
  }

  // _plain turns an upload error into words a person can act on, with the
  // engine's hint and the request id to quote to support.
  _plain(err) {
    const s = this._s();
    const known = s.errors[err.code];
    let text = fill(known || s.errors.fallback, { message: err.message });
    if (err.hint) text += ' ' + err.hint;
    if (err.requestId) text += ' (' + fill(s.requestId, { id: err.requestId }) + ')';
    return text;
  }

  _url(result) {
    if (typeof this.objectUrl === 'function') return this.objectUrl(result) || '';
    const tpl = this.getAttribute('object-url');
    if (!tpl) return '';
    const key = result.key.split('/').map(encodeURIComponent).join('/');
    return tpl.replace(/\{key\}/g, key).replace(/\{bucket\}/g, encodeURIComponent(result.bucket));
  }

  _announce(text) {
    // Replacing the text node makes screen readers read it even when the
    // same words come twice.
    this._live.textContent = '';
    this._live.textContent = text;
  }

  _emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true })); }
}

// walk collects the files under a directory entry with their paths below
// its parent. readEntries answers in batches (100 in Chromium) until an
// empty one.
async function walk(dir, prefix, out) {
  const reader = dir.createReader();
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return;
    for (const e of batch) {
      const path = prefix + '/' + e.name;
      if (e.isDirectory) await walk(e, path, out);
      else out.push({ file: await new Promise((resolve, reject) => e.file(resolve, reject)), path });
    }
  }
}

if (!customElements.get('ossup-uploader')) customElements.define('ossup-uploader', OssupUploader);
