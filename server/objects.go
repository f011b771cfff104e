package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

// signedObjects is Objects with the backend's own keys: the OSS calls the
// API makes (HeadObject, GetObjectACL, Get/PutObjectTagging, DeleteObject,
// AbortMultipartUpload), signed with the OSS SDK's
// V4 signer and sent with any DoFunc. The native server and the Workers
// build share it; the SDK's full client is not used because it does not fit
// the Workers size budget (about 3 MB gzip for the oss package alone) and
// would need its transport replaced there anyway.
type signedObjects struct {
	cfg   signedObjectsConfig
	creds *credentials.Credentials
	sign  signer.SignerV4
}

// signedObjectsConfig configures signedObjects.
type signedObjectsConfig struct {
	// Endpoint is "https://oss-cn-hangzhou.aliyuncs.com" or, path-style,
	// "http://127.0.0.1:9000".
	Endpoint  string
	PathStyle bool
	Region    string
	Bucket    string
	// AccessKeyID and AccessKeySecret are the backend's RAM user keys.
	AccessKeyID, AccessKeySecret string
	// HTTPDo sends the requests; nil is a client of its own.
	HTTPDo DoFunc
}

// objectAttempts is how often a call failing in transport or with a 5xx or
// 429 is tried, as the SDK's default retryer does.
const objectAttempts = 3

func newSignedObjects(cfg signedObjectsConfig) (*signedObjects, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("endpoint %q is not an http(s) origin", cfg.Endpoint)
	}
	if cfg.Region == "" || cfg.Bucket == "" {
		return nil, errors.New("region and bucket are required")
	}
	if cfg.HTTPDo == nil {
		cfg.HTTPDo = ownClient(20 * time.Second)
	}
	cfg.Endpoint = u.Scheme + "://" + u.Host
	return &signedObjects{cfg: cfg, creds: &credentials.Credentials{AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret}}, nil
}

// objectURL addresses key path-style or virtual-hosted, escaped as the SDK
// does (everything but unreserved characters and '/').
func (o *signedObjects) objectURL(key, query string) string {
	var b strings.Builder
	scheme, host, _ := strings.Cut(o.cfg.Endpoint, "://")
	b.WriteString(scheme + "://")
	if o.cfg.PathStyle {
		b.WriteString(host + "/" + o.cfg.Bucket + "/")
	} else {
		b.WriteString(o.cfg.Bucket + "." + host + "/")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || c == '-' || c == '.' || c == '_' || c == '~' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if query != "" {
		b.WriteString("?" + query)
	}
	return b.String()
}

// ossError is an OSS error answer.
type ossError struct {
	Status  int    `xml:"-"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (e *ossError) Error() string {
	return fmt.Sprintf("oss: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// do signs and sends one request, retrying transport failures, 5xx and 429.
// A non-2xx answer is an *ossError. key "" addresses the bucket; body and
// hdr (nil for none) are sent as given.
func (o *signedObjects) do(ctx context.Context, method, key, query string, body []byte, hdr http.Header) (*http.Response, error) {
	var last error
	for attempt := 0; attempt < objectAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, o.objectURL(key, query), rd)
		if err != nil {
			return nil, fmt.Errorf("oss: %w", err)
		}
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		if body != nil {
			sum := md5.Sum(body)
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		}
		sc := &signer.SigningContext{
			Product: ptr("oss"), Region: ptr(o.cfg.Region), Bucket: ptr(o.cfg.Bucket),
			Request: req, Credentials: o.creds,
		}
		if key != "" {
			sc.Key = ptr(key)
		}
		if err := o.sign.Sign(ctx, sc); err != nil {
			return nil, fmt.Errorf("oss: sign: %w", err)
		}
		resp, err := o.cfg.HTTPDo(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("oss: %s: %w", method, err)
			}
			last = fmt.Errorf("oss: %s: %w", method, err)
			continue
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		last = readOSSError(method, resp)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return nil, last
		}
	}
	return nil, last
}

// readOSSError decodes an error answer: the XML body or, for HEAD, the same
// XML base64-encoded in x-oss-err. A HEAD answer's body is not read at all:
// behind the Workers fetch API it is a null stream, which cannot be read.
func readOSSError(method string, resp *http.Response) error {
	defer resp.Body.Close()
	e := &ossError{}
	var body []byte
	if method == http.MethodHead {
		body, _ = base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
	} else {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	}
	_ = xml.Unmarshal(body, e)
	e.Status = resp.StatusCode
	return e
}

func (o *signedObjects) Head(ctx context.Context, key string) (*ObjectInfo, error) {
	resp, err := o.do(ctx, http.MethodHead, key, "", nil, nil)
	var oe *ossError
	if errors.As(err, &oe) && oe.Status == http.StatusNotFound {
		return nil, ErrObjectNotFound
	}
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	h := resp.Header
	size, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("oss: HeadObject answer without a Content-Length: %w", err)
	}
	info := &ObjectInfo{
		Size: size, CRC64: h.Get("x-oss-hash-crc64ecma"), ETag: strings.Trim(h.Get("ETag"), `"`), ContentType: h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"), ContentEncoding: h.Get("Content-Encoding"),
		ContentLanguage: h.Get("Content-Language"), CacheControl: h.Get("Cache-Control"), Expires: h.Get("Expires"),
		ObjectType: h.Get("x-oss-object-type"), StorageClass: h.Get("x-oss-storage-class"),
		SSE: h.Get("x-oss-server-side-encryption"), SSEKeyID: h.Get("x-oss-server-side-encryption-key-id"),
		SSEData: h.Get("x-oss-server-side-data-encryption"),
	}
	for k, vs := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-meta-") && len(vs) > 0 {
			if info.Meta == nil {
				info.Meta = map[string]string{}
			}
			info.Meta[lk] = vs[0]
		}
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.LastModified = t
	}
	return info, nil
}

func (o *signedObjects) Delete(ctx context.Context, key string) error {
	resp, err := o.do(ctx, http.MethodDelete, key, "", nil, nil)
	var oe *ossError
	if errors.As(err, &oe) && oe.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

func (o *signedObjects) ACL(ctx context.Context, key string) (string, error) {
	var doc struct {
		Grant string `xml:"AccessControlList>Grant"`
	}
	if err := o.getXML(ctx, key, "acl", &doc); err != nil {
		return "", err
	}
	return doc.Grant, nil
}

func (o *signedObjects) Tags(ctx context.Context, key string) (map[string]string, error) {
	var doc taggingXML
	if err := o.getXML(ctx, key, "tagging", &doc); err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range doc.Tags {
		tags[t.Key] = t.Value
	}
	return tags, nil
}

func (o *signedObjects) SetTags(ctx context.Context, key string, tags map[string]string) error {
	doc := taggingXML{}
	for k, v := range tags {
		doc.Tags = append(doc.Tags, tagXML{Key: k, Value: v})
	}
	slices.SortFunc(doc.Tags, func(a, b tagXML) int { return strings.Compare(a.Key, b.Key) })
	body, err := xml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("oss: tagging document: %w", err)
	}
	resp, err := o.do(ctx, http.MethodPut, key, "tagging", body, http.Header{"Content-Type": {"application/xml"}})
	var oe *ossError
	if errors.As(err, &oe) && oe.Status == http.StatusNotFound {
		return ErrObjectNotFound
	}
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

// getXML GETs key's sub-resource (key "": the bucket's) and decodes it; a
// missing object is ErrObjectNotFound.
func (o *signedObjects) getXML(ctx context.Context, key, query string, v any) error {
	resp, err := o.do(ctx, http.MethodGet, key, query, nil, nil)
	var oe *ossError
	if errors.As(err, &oe) && oe.Status == http.StatusNotFound && (oe.Code == "NoSuchKey" || key == "") {
		return ErrObjectNotFound
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("oss: read %s: %w", query, err)
	}
	if err := xml.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("oss: decode %s: %w", query, err)
	}
	return nil
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (o *signedObjects) AbortUpload(ctx context.Context, key, uploadID string) error {
	resp, err := o.do(ctx, http.MethodDelete, key, "uploadId="+url.QueryEscape(uploadID), nil, nil)
	var oe *ossError
	if errors.As(err, &oe) && oe.Code == "NoSuchUpload" {
		return ErrUploadNotFound
	}
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

func ptr(s string) *string { return &s }
