# workerd configuration for running the worker build locally (server's
# worker tests, bench/worker, or by hand after `make worker`):
#
#   OSSUP_SECRET=... OSS_ACCESS_KEY_ID=... workerd serve worker/workerd.capnp
#
# Every setting is a binding read from workerd's own environment, under the
# names the native server uses; an unset variable is an absent binding, as
# an unset Workers variable is. The "loopback" network lets the worker's
# fetch reach the local cloud on 127.0.0.1 (Cloudflare's own network allows
# public addresses only). Tests replace the socket with --socket-fd http=N.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "ossup", worker = .ossup),
    (name = "loopback", network = (allow = ["public", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "ossup")],
);

const ossup :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "build/worker.mjs"),
    (name = "wasm_exec.js", esModule = embed "build/wasm_exec.js"),
    (name = "app.wasm", wasm = embed "build/app.wasm"),
  ],
  # Keep in step with compatibility_date in wrangler.toml.
  compatibilityDate = "2026-11-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "OSSUP_MODE", fromEnvironment = "OSSUP_MODE"),
    (name = "OSS_ACCESS_KEY_ID", fromEnvironment = "OSS_ACCESS_KEY_ID"),
    (name = "OSS_ACCESS_KEY_SECRET", fromEnvironment = "OSS_ACCESS_KEY_SECRET"),
    (name = "OSSUP_BUCKET", fromEnvironment = "OSSUP_BUCKET"),
    (name = "OSSUP_REGION", fromEnvironment = "OSSUP_REGION"),
    (name = "OSSUP_ROLE_ARN", fromEnvironment = "OSSUP_ROLE_ARN"),
    (name = "OSSUP_OSS_ENDPOINT", fromEnvironment = "OSSUP_OSS_ENDPOINT"),
    (name = "OSSUP_STS_ENDPOINT", fromEnvironment = "OSSUP_STS_ENDPOINT"),
    (name = "OSSUP_PUBLIC_OSS_ENDPOINT", fromEnvironment = "OSSUP_PUBLIC_OSS_ENDPOINT"),
    (name = "OSSUP_LOG_LEVEL", fromEnvironment = "OSSUP_LOG_LEVEL"),
    (name = "OSSUP_AUTH", fromEnvironment = "OSSUP_AUTH"),
    (name = "OSSUP_AUTH_TOKENS", fromEnvironment = "OSSUP_AUTH_TOKENS"),
    (name = "OSSUP_JWT_SECRET", fromEnvironment = "OSSUP_JWT_SECRET"),
    (name = "OSSUP_JWT_JWKS_URL", fromEnvironment = "OSSUP_JWT_JWKS_URL"),
    (name = "OSSUP_JWT_ISSUER", fromEnvironment = "OSSUP_JWT_ISSUER"),
    (name = "OSSUP_JWT_AUDIENCE", fromEnvironment = "OSSUP_JWT_AUDIENCE"),
    (name = "OSSUP_SECRET", fromEnvironment = "OSSUP_SECRET"),
    (name = "OSSUP_SECRET_PREVIOUS", fromEnvironment = "OSSUP_SECRET_PREVIOUS"),
    (name = "OSSUP_TICKET_TTL", fromEnvironment = "OSSUP_TICKET_TTL"),
    (name = "OSSUP_KEY_TEMPLATE", fromEnvironment = "OSSUP_KEY_TEMPLATE"),
    (name = "OSSUP_MAX_SIZE", fromEnvironment = "OSSUP_MAX_SIZE"),
    (name = "OSSUP_ALLOWED_TYPES", fromEnvironment = "OSSUP_ALLOWED_TYPES"),
    (name = "OSSUP_ALLOWED_EXTENSIONS", fromEnvironment = "OSSUP_ALLOWED_EXTENSIONS"),
    (name = "OSSUP_INLINE_TYPES", fromEnvironment = "OSSUP_INLINE_TYPES"),
    (name = "OSSUP_META_FIELDS", fromEnvironment = "OSSUP_META_FIELDS"),
    (name = "OSSUP_PART_SIZE", fromEnvironment = "OSSUP_PART_SIZE"),
    (name = "OSSUP_CONCURRENCY", fromEnvironment = "OSSUP_CONCURRENCY"),
    (name = "OSSUP_STS_DURATION", fromEnvironment = "OSSUP_STS_DURATION"),
    (name = "OSSUP_CREDENTIAL_SCOPE", fromEnvironment = "OSSUP_CREDENTIAL_SCOPE"),
    (name = "OSSUP_CORS_ORIGINS", fromEnvironment = "OSSUP_CORS_ORIGINS"),
    (name = "OSSUP_RATE_LIMIT_IP", fromEnvironment = "OSSUP_RATE_LIMIT_IP"),
    (name = "OSSUP_RATE_LIMIT_USER", fromEnvironment = "OSSUP_RATE_LIMIT_USER"),
    (name = "OSSUP_TRUST_PROXY", fromEnvironment = "OSSUP_TRUST_PROXY"),
    (name = "OSSUP_WEBHOOK_URL", fromEnvironment = "OSSUP_WEBHOOK_URL"),
    (name = "OSSUP_WEBHOOK_SECRET", fromEnvironment = "OSSUP_WEBHOOK_SECRET"),
    (name = "OSSUP_OSS_CALLBACK_URL", fromEnvironment = "OSSUP_OSS_CALLBACK_URL"),
    (name = "OSSUP_OSS_CALLBACK_BODY", fromEnvironment = "OSSUP_OSS_CALLBACK_BODY"),
  ],
);
