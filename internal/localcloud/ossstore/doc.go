// Package ossstore is the on-disk storage of the local OSS endpoint: buckets
// (with their configuration), objects, multipart uploads and their parts. The
// HTTP handler does authentication, XML and HTTP; this package owns storage
// semantics, integrity and crash safety.
//
// # Layout
//
//	<dir>/LOCK                                 flock held while a Store is open
//	<dir>/tmp/                                 temp files and dirs, wiped by Open
//	<dir>/trash/                               removed uploads, wiped by Open
//	<dir>/buckets/<bucket>/bucket.json         name, creation time, configuration (CORS, ACL, overwrite, lifecycle)
//	<dir>/buckets/<bucket>/objects/<hh>/<sha256(key)>.json   object record (commit point)
//	<dir>/buckets/<bucket>/blobs/<blob>        data of a Normal object
//	<dir>/buckets/<bucket>/blobs/<blob>/00000… hard links to the parts of a Multipart object
//	<dir>/buckets/<bucket>/uploads/<id>/upload.json          key, initiation time, metadata
//	<dir>/buckets/<bucket>/uploads/<id>/p00001.json          current record of part 1 (commit point)
//	<dir>/buckets/<bucket>/uploads/<id>/p00001.<rand>.data   its data
//
// Keys never become paths: an object record is named by the SHA-256 of its
// key and holds the real key.
//
// # Crash safety
//
// Data is streamed into tmp/, fsynced, and renamed into place; a record (JSON)
// is written the same way and its rename is the single commit point of every
// change. Directories are fsynced after each rename a later commit depends on.
// Anything a crash leaves behind that no record references (temp files, blobs,
// part data) is removed by Open. CompleteUpload links the part files into a new
// blob instead of copying them, commits the object record naming the upload as
// its source, and then removes the upload; Open removes an upload that the
// current object of its key names as its source, because its Complete had
// committed.
//
// # Crash-test steps
//
// Options.OnStep is called at these points, in this order within each call:
//
//	put:written         PutObject body fsynced in tmp/, nothing visible yet
//	put:linked          body moved into blobs/, not referenced yet
//	put:committed       object record replaced; the old version's blob not yet removed
//	initiate:committed  upload directory in place (the upload exists)
//	part:written        UploadPart body fsynced in tmp/
//	part:linked         part data moved into the upload dir, previous part still current
//	part:committed      part record replaced; the previous data not yet removed
//	complete:linked     blob of hard-linked parts in place, object not committed
//	complete:committed  object record committed; the upload not yet removed
//	complete:done       upload removed; the old version's blob not yet removed
//	abort:removed       upload moved to trash, not yet deleted
//	delete:committed    object record removed; its blob not yet removed
package ossstore
