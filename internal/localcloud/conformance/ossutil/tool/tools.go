//go:build tools

// Package tool pins ossutil 1.7.19 (Alibaba's OSS command-line tool) so the
// conformance tests build it from the module proxy: `go install` cannot be
// used because the proxy refuses ossutil's version list, but a pinned
// require downloads.
package tool

import _ "github.com/aliyun/ossutil"
