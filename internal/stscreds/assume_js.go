//go:build js && wasm

package stscreds

// newAssumer is the hand-signed AssumeRole client in the js/wasm build (the
// Cloudflare Worker): the STS SDK does not fit the Workers size limit (see
// acs3Client). Config.HTTPDo is required there.
func newAssumer(cfg Config) (assumer, error) { return newACS3Client(cfg) }
