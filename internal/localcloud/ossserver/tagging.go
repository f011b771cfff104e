package ossserver

import (
	"net/http"

	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Object tagging: PutObjectTagging, GetObjectTagging and DeleteObjectTagging
// (PUT/GET/DELETE /key?tagging), with the <Tagging><TagSet><Tag> document of
// https://www.alibabacloud.com/help/en/oss/developer-reference/putobjecttagging.
// Changing tags does not change Last-Modified.

func (h *Handler) putObjectTagging(c *call) error {
	tags, err := parseTaggingBody(c.body)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Store.UpdateObjectAttrs(c.bucket, c.key, func(_ *ossstore.ObjectInfo, a *ossstore.Attrs) error {
		a.Tags = tags
		return nil
	}); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObjectTagging(c *call) error {
	info, err := h.cfg.Store.HeadObject(c.bucket, c.key)
	if err != nil {
		return err
	}
	out := taggingXML{Tags: []tagXML{}}
	for _, t := range info.Tags {
		out.Tags = append(out.Tags, tagXML{Key: t.Key, Value: t.Value})
	}
	return writeXML(c.w, out)
}

func (h *Handler) deleteObjectTagging(c *call) error {
	if _, err := h.cfg.Store.UpdateObjectAttrs(c.bucket, c.key, func(_ *ossstore.ObjectInfo, a *ossstore.Attrs) error {
		a.Tags = nil
		return nil
	}); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
