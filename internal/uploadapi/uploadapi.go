// Package uploadapi holds the JSON documents of the signing backend's
// /api/v1/uploads answers, shared by the backend that writes them
// (server/) and the engine that reads them (internal/engine, in wasm), so
// the two sides cannot drift. It imports only encoding-level packages and
// builds for js/wasm.
package uploadapi

import "time"

// Credentials are temporary STS credentials for one object key.
type Credentials struct {
	AccessKeyID     string    `json:"accessKeyId"`
	AccessKeySecret string    `json:"accessKeySecret"`
	SecurityToken   string    `json:"securityToken"`
	Expiration      time.Time `json:"expiration"`
}

// Session is the answer to a create: where and how to upload.
type Session struct {
	Ticket           string      `json:"ticket"`
	TicketExpiration time.Time   `json:"ticketExpiration"`
	Bucket           string      `json:"bucket"`
	Region           string      `json:"region"`
	Endpoint         string      `json:"endpoint"`
	PathStyle        bool        `json:"pathStyle"`
	Key              string      `json:"key"`
	PartSize         int64       `json:"partSize"`
	Parts            int         `json:"parts"`
	Concurrency      int         `json:"concurrency"`
	SinglePut        bool        `json:"singlePut"`
	Credentials      Credentials `json:"credentials"`
	// Headers are the headers the object is created with; see
	// ObjectHeaders.
	Headers ObjectHeaders `json:"headers"`
	// ServerTime is the backend's clock when it answered (UTC, millisecond
	// precision), for the engine's estimate of its clock's offset.
	ServerTime time.Time `json:"serverTime"`
}

// CredentialsRefresh is the answer to a credentials refresh. It repeats the
// session's Headers, so an engine resuming from a checkpoint (which keeps
// no headers) sends the same ones.
type CredentialsRefresh struct {
	Credentials Credentials   `json:"credentials"`
	Headers     ObjectHeaders `json:"headers"`
	ServerTime  time.Time     `json:"serverTime"`
}

// ObjectHeaders are, for each OSS request that creates the object, the
// headers the backend decided: the engine sends each listed header with
// exactly the given value on that request, and no other Content-Type,
// Content-Disposition, Content-Encoding, Cache-Control, Expires, x-oss-meta-*
// or x-oss-* header that would change the stored object (ACL, storage
// class, encryption, tagging). The backend's complete checks the stored
// object against the same decision and deletes it on any difference.
//
// Header names are as written here (Content-Type, Content-Disposition,
// x-oss-forbid-overwrite, x-oss-meta-*); a nil map means the request gets
// no decided headers. A request that carries a body of its own keeps the
// Content-Type of that body (CompleteMultipartUpload: application/xml), so
// CompleteMultipartUpload never lists Content-Type.
type ObjectHeaders struct {
	PutObject               map[string]string `json:"putObject"`
	InitiateMultipartUpload map[string]string `json:"initiateMultipartUpload"`
	CompleteMultipartUpload map[string]string `json:"completeMultipartUpload"`
}

// Object is the stored object as the backend verified it (the answer to a
// complete).
type Object struct {
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	CRC64        string    `json:"crc64"`
	ETag         string    `json:"etag"`
	ContentType  string    `json:"contentType"`
	LastModified time.Time `json:"lastModified"`
	User         string    `json:"user"`
	// ContentDisposition is the stored Content-Disposition, if the backend
	// decided one (attachment, for types a browser would execute).
	ContentDisposition string `json:"contentDisposition,omitempty"`
	// DeliveryID names this verified object in the webhook (and here): every
	// complete of the same object answers the same id, so a receiver
	// handles each upload once.
	DeliveryID string `json:"deliveryId,omitempty"`
	// RelativePath is the file's path below the folder the user picked or
	// dropped, as the create call gave it (absent for a file outside any
	// folder): the key holds it sanitised, this is the original.
	RelativePath string `json:"relativePath,omitempty"`
	// Meta is the application metadata the object was stored with, under
	// the backend's configured field names, as the create call gave it
	// (values in UTF-8; the object's x-oss-meta-* holds non-ASCII values
	// RFC 2047-encoded).
	Meta map[string]string `json:"meta,omitempty"`
}
