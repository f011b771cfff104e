// Package ossutil holds the conformance tests of the local OSS against
// ossutil 1.7.19, Alibaba's OSS command-line tool, built unchanged from the
// module proxy at the version pinned in tool/go.mod, with signature V1 and
// --sign-version v4.
package ossutil
