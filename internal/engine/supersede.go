package engine

import (
	"context"
)

// supersede abandons the interrupted uploads of earlier versions of the
// file about to be uploaded afresh: checkpoints of a file with the same
// name and type and an older lastModified. A file edited since its upload
// was interrupted gets a new checkpoint id (the id covers lastModified), so
// resume never sees its old record; without this, its multipart upload and
// checkpoint would linger until the janitor and the "resumable" list would
// offer a resume no file can satisfy.
//
// Browsers give no path, so name, type and an older modification time are
// the best evidence of "the same file, changed". Another file of the same
// name (from another folder) with an older modification time is taken for
// an earlier version too: its upload is aborted and must start over if it
// is picked again. Uploads running in this Engine are never touched, nor
// those Options.InUse reports (driven by another tab).
//
// It is best effort: a failure is logged and the new upload goes on; only
// the context ending is returned.
func (u *Upload) supersede(ctx context.Context) error {
	// Through the store's name index: only this name's records are read.
	entries, err := u.e.o.Store.ByName(ctx, u.ident.Name, u.ident.Type)
	if err != nil {
		u.log.Warn("could not look for earlier versions of the file", "err", err)
		return ctx.Err()
	}
	for _, e := range entries {
		rec := e.Record
		if rec == nil {
			if e.Damaged.Newer || e.Damaged.Salvage == nil {
				continue
			}
			rec = e.Damaged.Salvage
		}
		id := e.ID
		if id == u.id || rec.File.Name != u.ident.Name || rec.File.Type != u.ident.Type ||
			rec.File.LastModified >= u.ident.LastModified || u.e.running(id) {
			continue
		}
		if in := u.e.o.InUse; in != nil && in(ctx, id) {
			continue
		}
		u.log.Info("abandoning the upload of an earlier version of the file",
			"uploadId", rec.UploadID, "lastModified", rec.File.LastModified)
		if err := u.e.discard(ctx, id, rec); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			u.log.Warn("could not abandon the earlier version's upload", "err", err)
		}
	}
	return nil
}

// running reports whether an upload with checkpoint id runs in e.
func (e *Engine) running(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[id] != nil
}
