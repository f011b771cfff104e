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
}
