//go:build !embedweb

package web

import "io/fs"

// FS is nil: this binary was built without the embedweb tag, so the
// backend reads OSSUP_WEB_DIR (./web by default).
var FS fs.FS
