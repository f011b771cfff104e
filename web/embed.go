//go:build embedweb

package web

import (
	"embed"
	"io/fs"
)

// files are the browser side as `make build` leaves it in web/: the page
// module and its types, the worker glue, Go's wasm_exec.js, the engine and
// the demo. Only the files a browser fetches are listed (not package.json
// or Go sources), so the binary serves nothing else.
//
//go:embed *.html *.css *.js *.ts *.svg engine.wasm wasm_exec.js
var files embed.FS

// FS is the embedded web directory.
var FS fs.FS = files
