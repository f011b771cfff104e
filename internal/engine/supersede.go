package engine

import (
	"context"
)

// supersede discards the interrupted uploads of earlier versions of the
// file about to be uploaded afresh. A file edited since its upload was
// interrupted gets a new checkpoint id (the id covers lastModified), so its
// old record would linger until the janitor and the "resumable" list would
// offer a resume no file can satisfy.
//
// Only what Options.EarlierVersions proves counts: browsers give no path,
// and a matching name and type are no proof (two DSC_0001.JPG from two
// cards, two video.mp4 from two folders): without proof both stay pending
// until discarded or reaped. Uploads of this Engine are never touched, nor
// those Options.InUse reports (driven by another tab).
//
// It is best effort: a failure is logged and the new upload goes on; only
// the context ending is returned.
func (u *Upload) supersede(ctx context.Context) error {
	ev := u.e.o.EarlierVersions
	if ev == nil || u.e.o.Store == nil {
		return nil
	}
	for _, id := range ev(ctx, u.id) {
		if id == u.id || u.e.running(id) {
			continue
		}
		if in := u.e.o.InUse; in != nil && in(ctx, id) {
			continue
		}
		u.logger().Info("discarding the interrupted upload of an earlier version of the file", "id", id)
		if err := u.e.Discard(ctx, id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			u.logger().Warn("could not discard the earlier version's upload", "err", err)
		}
	}
	return nil
}
