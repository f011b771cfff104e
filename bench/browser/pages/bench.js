// The benchmark page's contenders. The page is loaded with ?c=limit, ?c=ours
// or ?c=alioss and loads only what that contender needs, so the memory
// figures of one contender never carry another's code. The Go program
// (bench/browser) picks the file into #file, calls window.bench.run(...)
// and awaits its JSON answer.

const params = new URLSearchParams(location.search);
const contender = params.get('c') || '';
const bench = { contender, ready: false };
window.bench = bench;

const picked = () => {
  const f = document.getElementById('file').files[0];
  if (!f) throw new Error('no file picked');
  return f;
};

// api calls the signing backend (same origin; the dev identity is a cookie).
async function api(method, path, body) {
  const r = await fetch(path, {
    method, credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(method + ' ' + path + ': HTTP ' + r.status + ' ' + text);
  return text ? JSON.parse(text) : null;
}

export async function setup(assets) {
  try {
    if (contender === 'limit') setupLimit();
    else if (contender === 'ours') await setupOurs(assets);
    else if (contender === 'alioss') await setupAliOSS(assets);
    else throw new Error('unknown contender ' + contender);
    bench.readyMs = performance.now();
    bench.ready = true;
  } catch (e) {
    bench.error = String((e && e.message) || e);
  }
}

// The limit: what the browser itself can do. Blob slices of the File go
// straight to fetch, to UploadPart URLs the Go program presigned, so the
// page signs nothing, copies nothing and hashes nothing. With read, each
// part is first read into memory in one arrayBuffer() call (and dropped):
// the floor of any uploader that looks at every byte, as a CRC does. With
// xhr, XMLHttpRequest sends the Blob (as our engine does, for its upload
// progress events) instead of fetch.
function setupLimit() {
  const putXHR = (url, body) => new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.upload.onprogress = () => {};
    x.onload = () => resolve({ ok: x.status < 300, status: x.status, etag: x.getResponseHeader('ETag'), text: x.responseText });
    x.onerror = () => reject(new Error('XHR network error'));
    x.send(body);
  });
  bench.run = async ({ urls, partSize, concurrency, read, xhr }) => {
    const f = picked();
    const etags = new Array(urls.length);
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= urls.length) return;
        const body = f.slice(i * partSize, Math.min(f.size, (i + 1) * partSize));
        if (read) await body.arrayBuffer();
        if (xhr) {
          const r = await putXHR(urls[i], body);
          if (!r.ok) throw new Error('part ' + (i + 1) + ': HTTP ' + r.status + ' ' + r.text);
          etags[i] = r.etag;
          continue;
        }
        const r = await fetch(urls[i], { method: 'PUT', body });
        if (!r.ok) throw new Error('part ' + (i + 1) + ': HTTP ' + r.status + ' ' + (await r.text()));
        etags[i] = r.headers.get('ETag');
        await r.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
    return JSON.stringify({ ms: performance.now() - t0, etags });
  };
}

// Ours: the engine through its public JS API (createUploader), in its Web
// Worker, with STS credentials from the backend and CRC-64 on every part.
async function setupOurs(assets) {
  const { createUploader } = await import(assets.module);
  // ?engine=: bench/browser's -engine-b, a second engine served next to
  // the first.
  if (params.get('engine')) assets = { ...assets, engine: new URL('../' + params.get('engine'), location.href).href };
  const concurrency = Number(params.get('concurrency')) || undefined;
  const up = createUploader({ assets, concurrency });
  bench.version = await up.ready;
  bench.uploader = up;
  // After reloadAt's reload: what the page saw when it reloaded. Only the
  // new page has it, so the driver can tell the two pages apart.
  const info = sessionStorage.getItem('ossup-bench-reload');
  if (info) {
    sessionStorage.removeItem('ossup-bench-reload');
    bench.reloadInfo = JSON.parse(info);
  }

  bench.run = async () => {
    const f = picked();
    const t0 = performance.now();
    const h = up.upload(f);
    bench.current = h; // for the driver's report if the run fails
    const r = await h.done;
    return JSON.stringify({ ms: performance.now() - t0, key: r.key, size: r.size, crc64: r.crc64 });
  };

  // reloadAt starts an upload and reloads the page once OSS confirmed the
  // fraction frac of it, as a person pressing F5 mid-upload would. What the
  // page saw at that moment survives the reload in sessionStorage.
  bench.reloadAt = (frac) => {
    const h = up.upload(picked());
    let fired = false;
    h.addEventListener('progress', (e) => {
      const p = e.detail;
      if (fired || p.bytesConfirmed < frac * p.total) return;
      fired = true;
      sessionStorage.setItem('ossup-bench-reload', JSON.stringify({
        confirmed: p.bytesConfirmed, sending: p.bytesSending, total: p.total,
      }));
      location.reload();
    });
    h.done.then(() => { if (!fired) bench.finishedBeforeReload = true; }, () => {});
    return true;
  };

  // resume picks the same file again after the reload: the engine matches
  // it to its IndexedDB checkpoint, reconciles with ListParts and sends
  // only what is missing. Times are epoch milliseconds so they compare with
  // the worker's resource timings.
  bench.resume = async () => {
    const pending = await up.pending();
    const f = picked();
    const start = performance.timeOrigin + performance.now();
    const h = up.upload(f);
    let uploadingAt = 0;
    let confirmedAtStart = -1;
    h.addEventListener('state', (e) => {
      if (e.detail.state === 'uploading' && !uploadingAt) {
        uploadingAt = performance.timeOrigin + performance.now();
        confirmedAtStart = e.detail.bytesConfirmed;
      }
    });
    const r = await h.done;
    return JSON.stringify({
      pending: pending.length, pendingBytesDone: pending.length ? pending[0].bytesDone : 0,
      start, uploadingAt, confirmedAtStart, end: performance.timeOrigin + performance.now(), key: r.key,
    });
  };
}

// ali-oss: the official browser bundle, multipartUpload with the same STS
// credentials the backend gives our engine (its create call), path style
// on the local OSS as tests/alioss/alioss.mjs uses it. run({}) takes
// ali-oss's defaults; run({partSize, parallel}) ours.
async function setupAliOSS(assets) {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = assets.alioss;
    s.onload = resolve;
    s.onerror = () => reject(new Error('the ali-oss bundle did not load'));
    document.head.appendChild(s);
  });
  await api('GET', '/api/v1/whoami');
  bench.version = window.OSS && window.OSS.version;
  bench.run = async ({ partSize, parallel, v4 }) => {
    const f = picked();
    const t0 = performance.now();
    const s = await api('POST', '/api/v1/uploads', { name: f.name, size: f.size, type: f.type, lastModified: f.lastModified });
    const c = s.credentials;
    const client = new window.OSS({
      region: 'oss-' + s.region, endpoint: s.endpoint, bucket: s.bucket,
      accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken,
      secure: s.endpoint.startsWith('https:'), sldEnable: s.pathStyle, authorizationV4: !!v4,
    });
    const opts = partSize ? { partSize, parallel } : {};
    await client.multipartUpload(s.key, f, opts);
    return JSON.stringify({ ms: performance.now() - t0, key: s.key });
  };
}
