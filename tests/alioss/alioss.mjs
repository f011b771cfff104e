// Drives the official ali-oss SDK against the local OSS. Run by
// internal/localcloud/alioss_test.go, which starts the local cloud, passes the
// endpoint and credentials in the environment and afterwards reads every
// object written here back with the Go SDK.
//
// Environment:
//   ALIOSS_SCENARIO   "objects" (the whole tour), "deny" (a restricted
//                     STS session) or "callback" (upload callbacks)
//   ALIOSS_ENDPOINT   http://127.0.0.1:PORT
//   ALIOSS_BUCKET, ALIOSS_REGION (e.g. oss-cn-hangzhou)
//   ALIOSS_SIGNATURE  "v1" or "v4"
//   ALIOSS_AK, ALIOSS_SK, ALIOSS_TOKEN (token empty for the account's keys)
//   ALIOSS_PREFIX     key prefix owned by this run
//   ALIOSS_SMALL, ALIOSS_BIG  paths of the content files to upload
//   ALIOSS_CALLBACK_URL       the callback server ("callback" only); its
//                     /fail path answers 500
//
// Output: one JSON line on stdout, {"version": ..., "steps": {name: {value}
// or {error}}}. A step records ali-oss's error instead of aborting the run,
// so the Go test can report every failure with the SDK's own error code.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import OSS from 'ali-oss';

const require = createRequire(import.meta.url);
const { version } = require('ali-oss/package.json');

const env = name => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`missing environment variable ${name}`);
  return v;
};

const endpoint = env('ALIOSS_ENDPOINT');
const bucket = env('ALIOSS_BUCKET');
const region = env('ALIOSS_REGION');
const v4 = env('ALIOSS_SIGNATURE') === 'v4';
const prefix = env('ALIOSS_PREFIX');
const creds = {
  accessKeyId: env('ALIOSS_AK'),
  accessKeySecret: env('ALIOSS_SK'),
  stsToken: process.env.ALIOSS_TOKEN || undefined
};

// Path style on the IP endpoint, as a browser page would use it.
const newClient = (over = {}) =>
  new OSS({
    ...creds,
    endpoint,
    bucket,
    region,
    secure: false,
    sldEnable: true,
    authorizationV4: v4,
    timeout: 20000,
    ...over
  });

const sha256 = b => createHash('sha256').update(b).digest('hex');
const errInfo = e => ({
  name: e && e.name,
  code: e && e.code,
  status: e && e.status,
  message: String((e && e.message) || e),
  requestId: e && e.requestId
});

const steps = {};
async function step(name, fn) {
  try {
    steps[name] = { value: (await fn()) ?? null };
  } catch (e) {
    steps[name] = { error: errInfo(e) };
  }
}

// expectError runs fn, which must fail, and returns ali-oss's error.
async function expectError(fn) {
  try {
    await fn();
  } catch (e) {
    return errInfo(e);
  }
  throw new Error('expected an error, the call succeeded');
}

// asArray undoes xml2js's explicitArray: false, under which ali-oss's
// listParts returns a lone <Part> as an object rather than a list.
const asArray = x => (x == null ? [] : [].concat(x));

const crcHeader = res => res && res.headers && res.headers['x-oss-hash-crc64ecma'];

async function objects() {
  const client = newClient();
  const small = readFileSync(env('ALIOSS_SMALL'));
  const big = readFileSync(env('ALIOSS_BIG'));

  await step('put', async () => {
    const r = await client.put(`${prefix}small.txt`, small, {
      mime: 'text/plain',
      meta: { seed: '42' }
    });
    return { status: r.res.status, etag: r.res.headers.etag, crc: crcHeader(r.res) };
  });
  await step('get', async () => {
    const r = await client.get(`${prefix}small.txt`);
    return { status: r.res.status, sha256: sha256(r.content), crc: crcHeader(r.res) };
  });
  await step('head', async () => {
    const r = await client.head(`${prefix}small.txt`);
    return {
      status: r.status,
      meta: r.meta,
      contentType: r.res.headers['content-type'],
      contentLength: r.res.headers['content-length'],
      etag: r.res.headers.etag,
      crc: crcHeader(r.res),
      objectType: r.res.headers['x-oss-object-type']
    };
  });
  // A stream without a length goes up with Transfer-Encoding: chunked.
  await step('putStreamChunked', async () => {
    const r = await client.putStream(`${prefix}chunked.bin`, Readable.from([small.subarray(0, 100), small.subarray(100)]));
    return { status: r.res.status, crc: crcHeader(r.res) };
  });
  await step('putFile', async () => {
    const r = await client.put(`${prefix}from-file.bin`, env('ALIOSS_SMALL'));
    return { status: r.res.status, crc: crcHeader(r.res) };
  });
  await step('delete', async () => {
    await client.put(`${prefix}deleted.txt`, small);
    const r = await client.delete(`${prefix}deleted.txt`);
    return { status: r.res.status };
  });
  await step('headDeleted', () => expectError(() => client.head(`${prefix}deleted.txt`)));
  await step('getMissing', () => expectError(() => client.get(`${prefix}never-written.txt`)));
  // A 403 HEAD has no body: the error must come from the x-oss-err header.
  await step('headBadSecret', () =>
    expectError(() => newClient({ accessKeySecret: `${creds.accessKeySecret}x` }).head(`${prefix}small.txt`))
  );

  await step('multipartUpload1MiB', async () => {
    const progress = [];
    const r = await client.multipartUpload(`${prefix}mpu-1mib.bin`, big, {
      partSize: 1024 * 1024,
      progress: p => {
        progress.push(p);
      }
    });
    return { status: r.res.status, etag: r.etag, crc: crcHeader(r.res), progress };
  });
  await step('multipartUploadDefaults', async () => {
    const progress = [];
    const r = await client.multipartUpload(`${prefix}mpu-defaults.bin`, env('ALIOSS_BIG'), {
      progress: p => {
        progress.push(p);
      }
    });
    return { status: r.res.status, etag: r.etag, crc: crcHeader(r.res), progress };
  });
  await step('multipartResume', () => resume(client, big));
  await step('multipartManual', () => manual(client));
  await step('multipartAbort', () => abort(client, big));
  await step('presignV1', () => presignV1(big));
  await step('presignV4', () => presignV4(client, big));
}

// resume interrupts a multipartUpload after its first part with cancel(),
// round-trips ali-oss's checkpoint through JSON as a page would persist it,
// and finishes the upload from it.
async function resume(client, big) {
  const name = `${prefix}mpu-resume.bin`;
  const opts = { partSize: 1024 * 1024, parallel: 1 };
  let saved = null;
  const first = await client
    .multipartUpload(name, big, {
      ...opts,
      progress: (p, cpt) => {
        if (cpt && cpt.doneParts.length === 1) {
          saved = JSON.stringify({ ...cpt, file: undefined });
          client.cancel();
        }
      }
    })
    .then(
      () => ({ name: 'finished' }),
      e => e
    );
  if (!saved) throw new Error(`no checkpoint saved; first attempt ended with ${first.name}`);
  const checkpoint = { ...JSON.parse(saved), file: big };
  const listed = await client.listParts(name, checkpoint.uploadId);
  const progress = [];
  const r = await client.multipartUpload(name, big, {
    ...opts,
    checkpoint,
    progress: (p, cpt) => {
      progress.push({ p, done: cpt ? cpt.doneParts.length : null });
    }
  });
  return {
    firstAttempt: first.name,
    uploadId: checkpoint.uploadId,
    partsAfterCancel: asArray(listed.parts).map(p => Number(p.PartNumber)),
    progress,
    status: r.res.status,
    etag: r.etag,
    crc: crcHeader(r.res)
  };
}

// manualParts are the byte ranges of the big file the explicit multipart
// calls upload (the Go test rebuilds the expected object from them).
const manualParts = [
  [0, 262144],
  [262144, 462144]
];

async function manual(client) {
  const name = `${prefix}manual.bin`;
  const init = await client.initMultipartUpload(name);
  const parts = [];
  for (const [i, [start, end]] of manualParts.entries()) {
    const r = await client.uploadPart(name, init.uploadId, i + 1, env('ALIOSS_BIG'), start, end);
    parts.push({ number: i + 1, etag: r.etag, crc: crcHeader(r.res) });
  }
  const listed = await client.listParts(name, init.uploadId, { 'max-parts': 1 });
  const listed2 = await client.listParts(name, init.uploadId, {
    'max-parts': 1000,
    'part-number-marker': listed.nextPartNumberMarker
  });
  const done = await client.completeMultipartUpload(
    name,
    init.uploadId,
    parts.map(({ number, etag }) => ({ number, etag }))
  );
  const afterComplete = await expectError(() => client.listParts(name, init.uploadId));
  return {
    init: { bucket: init.bucket, name: init.name, uploadId: init.uploadId },
    parts,
    page1: {
      isTruncated: listed.isTruncated,
      nextPartNumberMarker: listed.nextPartNumberMarker,
      maxParts: listed.maxParts,
      parts: asArray(listed.parts)
    },
    page2: { isTruncated: listed2.isTruncated, parts: asArray(listed2.parts) },
    complete: { status: done.res.status, etag: done.etag, crc: crcHeader(done.res) },
    afterComplete
  };
}

async function abort(client, big) {
  const name = `${prefix}aborted.bin`;
  const init = await client.initMultipartUpload(name);
  await client.uploadPart(name, init.uploadId, 1, env('ALIOSS_BIG'), 0, 200000);
  const before = await client.listUploads({ prefix, 'max-uploads': 1000 });
  await client.abortMultipartUpload(name, init.uploadId);
  const after = await client.listUploads({ prefix, 'max-uploads': 1000 });
  const listParts = await expectError(() => client.listParts(name, init.uploadId));
  const uploadPart = await expectError(() =>
    client.uploadPart(name, init.uploadId, 2, env('ALIOSS_BIG'), 0, 1000)
  );
  return {
    uploadId: init.uploadId,
    before: before.uploads,
    after: after.uploads,
    listParts,
    uploadPart
  };
}

// fetchResult sends a presigned request with fetch, as a page would.
async function fetchResult(url, init) {
  const r = await fetch(url, init);
  const body = Buffer.from(await r.arrayBuffer());
  return {
    status: r.status,
    crc: r.headers.get('x-oss-hash-crc64ecma'),
    sha256: sha256(body),
    body: r.ok ? undefined : body.toString('utf8')
  };
}

// presignV1 signs with signatureUrl, which refuses an IP endpoint: it gets a
// client on the same port under the name localhost.
async function presignV1(big) {
  const url = new URL(endpoint);
  url.hostname = 'localhost';
  const client = newClient({ endpoint: url.origin });
  const name = `${prefix}presign-v1.bin`;
  const body = big.subarray(0, 300000);
  const putURL = client.signatureUrl(name, { method: 'PUT', 'Content-Type': 'application/octet-stream', expires: 600 });
  const put = await fetchResult(putURL, {
    method: 'PUT',
    body,
    headers: { 'Content-Type': 'application/octet-stream' }
  });
  const get = await fetchResult(client.signatureUrl(name, { expires: 600 }));
  const tampered = await fetchResult(client.signatureUrl(name, { expires: 600 }).replace(name, `${name}x`));
  return { putURL: redact(putURL), put, get, tampered };
}

async function presignV4(client, big) {
  const name = `${prefix}presign-v4.bin`;
  const body = big.subarray(300000, 700000);
  const putURL = await client.signatureUrlV4('PUT', 600, { headers: { 'Content-Type': 'application/octet-stream' } }, name);
  const put = await fetchResult(putURL, {
    method: 'PUT',
    body,
    headers: { 'Content-Type': 'application/octet-stream' }
  });
  const get = await fetchResult(await client.signatureUrlV4('GET', 600, {}, name));
  // Signed for one Content-Type, sent with another.
  const wrongType = await fetchResult(putURL, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain' } });
  return { putURL: redact(putURL), put, get, wrongType };
}

// redact keeps a presigned URL's shape for diagnostics without its secrets.
function redact(u) {
  const url = new URL(u);
  return `${url.origin}${url.pathname}?${[...url.searchParams.keys()].sort().join('&')}`;
}

// deny runs with a session limited to uploads/a/*.
async function deny() {
  const client = newClient();
  const small = readFileSync(env('ALIOSS_SMALL'));
  await step('allowedPut', async () => {
    const r = await client.put(`${prefix}a/ok.txt`, small);
    return { status: r.res.status, crc: crcHeader(r.res) };
  });
  await step('deniedPut', () => expectError(() => client.put(`${prefix}b/x`, small)));
  await step('deniedHead', () => expectError(() => client.head(`${prefix}b/x`)));
  await step('deniedMultipart', () =>
    expectError(() => client.multipartUpload(`${prefix}b/big.bin`, env('ALIOSS_BIG'), { partSize: 1024 * 1024 }))
  );
}

// callback uploads with ali-oss's callback option: put (form body, a custom
// variable), multipartUpload (JSON body, on Complete), and a put whose
// callback fails (203 CallbackFailed, which ali-oss throws).
async function callback() {
  const client = newClient();
  const small = readFileSync(env('ALIOSS_SMALL'));
  const url = env('ALIOSS_CALLBACK_URL');
  await step('putCallback', async () => {
    const r = await client.put(`${prefix}cb-put.bin`, small, {
      callback: {
        url: `${url}/put`,
        body: 'object=${object}&size=${size}&v=${x:v}',
        contentType: 'application/x-www-form-urlencoded',
        customValue: { v: 'ali oss' }
      }
    });
    return { status: r.res.status, data: r.data };
  });
  await step('multipartCallback', async () => {
    const r = await client.multipartUpload(`${prefix}cb-big.bin`, env('ALIOSS_BIG'), {
      partSize: 1024 * 1024,
      callback: { url: `${url}/multipart`, body: '{"object":${object},"size":${size}}', contentType: 'application/json' }
    });
    return { status: r.res.status, data: r.data };
  });
  await step('failedCallback', () =>
    expectError(() => client.put(`${prefix}cb-fail.bin`, small, { callback: { url: `${url}/fail`, body: 'k=${object}' } }))
  );
}

const scenarios = { objects, deny, callback };
const scenario = scenarios[env('ALIOSS_SCENARIO')];
if (!scenario) throw new Error(`unknown scenario ${process.env.ALIOSS_SCENARIO}`);
await scenario();
process.stdout.write(`${JSON.stringify({ version, steps })}\n`);
