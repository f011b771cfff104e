package ossstore

import (
	"fmt"
	"slices"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Tag is one object tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Attrs are the access and storage attributes of an object (or of the
// object an upload will become): what x-oss-object-acl, x-oss-storage-class,
// x-oss-tagging and x-oss-server-side-encryption set. The handler validates
// them; the store keeps and returns them.
type Attrs struct {
	// ACL is the object ACL: private, public-read, public-read-write, or ""
	// for default (the bucket's ACL applies).
	ACL string `json:"acl,omitempty"`
	// StorageClass is Standard, IA, Archive, ColdArchive or DeepColdArchive;
	// "" means Standard.
	StorageClass string `json:"storageClass,omitempty"`
	// Tags in the order they were given.
	Tags []Tag `json:"tags,omitempty"`
	// SSE is the server-side encryption algorithm (AES256 or SM4), "" for none.
	SSE string `json:"sse,omitempty"`
}

func (a Attrs) clone() Attrs {
	a.Tags = slices.Clone(a.Tags)
	return a
}

// UpdateObjectAttrs changes the attributes of the current version of key in
// place (PutObjectACL, Put/DeleteObjectTagging): the data and Last-Modified
// stay as they are, as on OSS. fn sees the current attributes and may change
// them; an error from fn is returned and nothing is written.
func (s *Store) UpdateObjectAttrs(bucket, key string, fn func(info *ObjectInfo, a *Attrs) error) (*ObjectInfo, error) {
	if err := s.checkBucketKey(bucket, key); err != nil {
		return nil, err
	}
	unlock := s.objLocks.lock(objLockName(bucket, key))
	defer unlock()
	rec, err := s.readObject(bucket, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, osserr.NoSuchKey(key)
	}
	a := rec.Attrs.clone()
	if err := fn(rec.info(bucket), &a); err != nil {
		return nil, err
	}
	rec.Attrs = a
	path := s.objectPath(bucket, key)
	if err := writeJSONAtomic(s.tmpDir(), path, rec); err != nil {
		return nil, fmt.Errorf("update object: %w", err)
	}
	return rec.info(bucket), nil
}
