package stscreds

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"time"
)

// acs3Client makes the AssumeRole call exactly as the official SDK does it
// (sts-20150401 v2.1.0 on darabonba-openapi v2.1.13 and tea v1.3.13): the
// same query parameters and headers, signed with ACS3-HMAC-SHA256, one
// attempt, and the SDK's mapping of error answers onto STSError.
//
// It exists for the js/wasm build (the Cloudflare Worker, assume_js.go): the
// SDK and what it pulls in (tea, credentials-go, gmsm, json-iterator, mxj, and
// a call of (*http.Client).Do, which links net/http's native transport and
// TLS) put the Worker over the 3 MB gzip size limit of Workers' free plan.
// The native build keeps the SDK; the tests run this client natively against
// the local STS and compare its answers with the SDK's.
//
// Requests go through Config.HTTPDo, a func rather than an interface with a
// Do method: the Worker links echo's autocert, whose acme.Client holds an
// *http.Client, and the linker keeps (*http.Client).Do, with the native
// transport behind it, as soon as any interface method Do of that signature
// is called.
type acs3Client struct {
	endpoint, protocol           string
	accessKeyID, accessKeySecret string
	do                           func(*http.Request) (*http.Response, error)
}

const (
	acs3Algorithm = "ACS3-HMAC-SHA256"
	stsVersion    = "2015-04-01"
)

// sdkUserAgent is the User-Agent darabonba-openapi sends (utils.GetUserAgent
// without a configured one), so STS sees the same caller either way.
var sdkUserAgent = fmt.Sprintf("AlibabaCloud (%s; %s) Golang/%s Core/%s TeaDSL/2",
	runtime.GOOS, runtime.GOARCH, strings.Trim(runtime.Version(), "go"), "0.01")

func newACS3Client(cfg Config) (*acs3Client, error) {
	if cfg.HTTPDo == nil {
		return nil, errors.New("HTTPDo is required")
	}
	return &acs3Client{
		endpoint: cfg.Endpoint, protocol: cfg.Protocol,
		accessKeyID: cfg.AccessKeyID, accessKeySecret: cfg.AccessKeySecret,
		do: cfg.HTTPDo,
	}, nil
}

func (c *acs3Client) assumeRole(ctx context.Context, in assumeInput) (*rawCredentials, error) {
	req, err := c.request(ctx, in, time.Now())
	if err != nil {
		return nil, fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		// As dara.DoRequestWithCtx: a call ended by its context reports the
		// context's error.
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 600 {
		return nil, errorAnswer(resp, body)
	}
	return credentialsAnswer(body)
}

// request builds the signed POST: parameters in the query, an empty body
// (darabonba-openapi's DoRequest, RPC style, no form body). Header names are
// set as the SDK sets them, lower-case and verbatim.
func (c *acs3Client) request(ctx context.Context, in assumeInput, now time.Time) (*http.Request, error) {
	query := map[string]string{
		"DurationSeconds": fmt.Sprint(in.DurationSeconds),
		"Policy":          in.Policy,
		"RoleArn":         in.RoleARN,
		"RoleSessionName": in.SessionName,
	}
	q := url.Values{}
	for k, v := range query {
		q.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.protocol+"://"+c.endpoint+"/?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Host = c.endpoint
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	emptySum := sha256.Sum256(nil)
	signed := map[string]string{
		"host":                  c.endpoint,
		"x-acs-version":         stsVersion,
		"x-acs-action":          "AssumeRole",
		"x-acs-date":            now.UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": hex.EncodeToString(nonce),
		"x-acs-content-sha256":  hex.EncodeToString(emptySum[:]),
		// What credentials-go's static AccessKey provider names itself.
		"x-acs-credentials-provider": "static_ak",
	}
	for k, v := range signed {
		req.Header[k] = []string{v}
	}
	// dara sends host and user-agent under their canonical names; net/http
	// takes the Host it sends from req.Host.
	req.Header["Host"] = req.Header["host"]
	delete(req.Header, "host")
	req.Header["User-Agent"] = []string{sdkUserAgent}
	req.Header["accept"] = []string{"application/json"}
	req.Header["Authorization"] = []string{c.authorization(query, signed)}
	return req, nil
}

// authorization is openapiutil.GetAuthorization for ACS3-HMAC-SHA256 with
// path "/", method POST and the empty body; internal/localcloud/stsserver verifies it.
func (c *acs3Client) authorization(query, signed map[string]string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cq strings.Builder
	for i, k := range keys {
		if i > 0 {
			cq.WriteByte('&')
		}
		cq.WriteString(k + "=")
		if v := query[k]; v != "" {
			cq.WriteString(url.QueryEscape(v))
		}
	}
	canonicalQuery := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(cq.String())

	names := make([]string, 0, len(signed))
	for k := range signed {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, k := range names {
		ch.WriteString(k + ":" + strings.TrimSpace(signed[k]) + "\n")
	}
	signedHeaders := strings.Join(names, ";")
	canonical := "POST\n/\n" + canonicalQuery + "\n" + ch.String() + "\n" + signedHeaders + "\n" + signed["x-acs-content-sha256"]
	sum := sha256.Sum256([]byte(canonical))
	m := hmac.New(sha256.New, []byte(c.accessKeySecret))
	m.Write([]byte(acs3Algorithm + "\n" + hex.EncodeToString(sum[:])))
	return acs3Algorithm + " Credential=" + c.accessKeyID + ",SignedHeaders=" + signedHeaders +
		",Signature=" + hex.EncodeToString(m.Sum(nil))
}

// credentialsAnswer reads a successful answer as the SDK does: the first
// JSON value, converted into the SDK's response body (dara.Convert:
// case-sensitive names; a string field also takes a number, a boolean or
// null, and any other type fails the call). An answer that is empty or not
// an object has no Credentials.
func credentialsAnswer(body []byte) (*rawCredentials, error) {
	if len(body) == 0 {
		return nil, nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
	}
	answer, _ := v.(map[string]any)
	var c *rawCredentials
	for _, f := range []struct {
		name   string
		fields map[string]*string
	}{
		{"RequestId", nil},
		{"SourceIdentity", nil},
		{"AssumedRoleUser", map[string]*string{"Arn": nil, "AssumedRoleId": nil}},
		{"Credentials", nil},
	} {
		if f.name == "Credentials" && answer[f.name] != nil {
			c = &rawCredentials{}
			f.fields = map[string]*string{"AccessKeyId": &c.AccessKeyID, "AccessKeySecret": &c.AccessKeySecret,
				"SecurityToken": &c.SecurityToken, "Expiration": &c.Expiration}
		}
		if err := convertField(f.name, answer[f.name], f.fields); err != nil {
			return nil, fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
		}
	}
	return c, nil
}

// convertField checks one decoded value against the SDK's field type: a
// string when fields is nil, else an object (or null) whose named members
// are strings, stored into fields' non-nil targets.
func convertField(name string, v any, fields map[string]*string) error {
	if fields == nil {
		_, err := sdkString(name, v)
		return err
	}
	if v == nil {
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %T is not an object", name, v)
	}
	for k, dst := range fields {
		s, err := sdkString(name+"."+k, obj[k])
		if err != nil {
			return err
		}
		if dst != nil {
			*dst = s
		}
	}
	return nil
}

// sdkString is dara's fuzzy string decoding of a JSON value.
func sdkString(name string, v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	case bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("%s: %T is not a string", name, v)
}

// errorAnswer maps a 4xx/5xx answer as darabonba-openapi does
// (doRequestWithCtx_opResponse, then dara.TeaSDKError and wrapSTSError):
// JSON, or XML when the Content-Type is exactly STS's XML one; absent fields
// print as "<nil>", as the SDK's dara.ToString renders them.
func errorAnswer(resp *http.Response, body []byte) error {
	var fields map[string]any
	if resp.Header.Get("Content-Type") == "text/xml;charset=utf-8" {
		fields = xmlErrorFields(body)
	} else if len(body) > 0 {
		v, err := decodeJSON(body)
		if err != nil {
			return fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
		}
		fields, _ = v.(map[string]any)
	}
	field := func(upper, lower string) string {
		v := fields[upper]
		if isZero(v) {
			v = fields[lower]
		}
		return fmt.Sprintf("%v", v)
	}
	code := field("Code", "code")
	msg := fmt.Sprintf("code: %d, %s request id: %s", resp.StatusCode, field("Message", "message"), field("RequestId", "requestId"))
	if code == "" {
		return fmt.Errorf("stscreds: AssumeRole request failed: %s", msg)
	}
	return &STSError{StatusCode: resp.StatusCode, Code: code, Message: msg}
}

// decodeJSON is dara.ReadAsJSON's decoding: the first JSON value, numbers
// kept as written.
func decodeJSON(body []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// isZero is dara's isNilOrZero for decoded JSON values.
func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case json.Number:
		return v == ""
	case bool:
		return !v
	}
	return false
}

// xmlErrorFields are the children of an <Error> document, nil for any other
// or malformed document (the SDK's dara.ParseXml then finds no "Error").
func xmlErrorFields(body []byte) map[string]any {
	var doc struct {
		XMLName xml.Name `xml:"Error"`
		Fields  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return nil
	}
	fields := map[string]any{}
	for _, f := range doc.Fields {
		fields[f.XMLName.Local] = f.Value
	}
	return fields
}
