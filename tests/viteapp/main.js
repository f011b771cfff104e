// What a web developer writes after `npm install ossup`: a bare import, no
// bundler configuration. The backend's URL comes from ?backend= so the test
// can point the built app at an API-only backend on another origin.
import { createUploader } from 'ossup';

const backend = new URLSearchParams(location.search).get('backend') || location.origin;
const uploader = createUploader({ backend });
const app = { version: null, handles: [], results: [], errors: [], pending: null };
window.app = app;
const status = document.getElementById('status');

uploader.ready.then(async (version) => {
  app.version = version;
  status.textContent = 'ready ' + version;
  app.pending = await uploader.pending();
}, (err) => {
  app.errors.push({ stage: 'ready', message: err.message });
  status.textContent = 'failed: ' + err.message;
});

document.getElementById('files').addEventListener('change', (e) => {
  for (const file of e.target.files) {
    const h = uploader.upload(file);
    app.handles.push(h);
    h.done.then((r) => app.results.push(r), (err) => app.errors.push({ message: err.message, code: err.code }));
  }
  // Cleared, so that picking the same file again (to resume it) is a
  // change: Firefox restores a file input's selection across a reload.
  e.target.value = '';
});
