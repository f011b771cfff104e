package stsserver

import (
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

const (
	apiVersion    = "2015-04-01"
	maxBodyBytes  = 64 << 10
	maxPolicySize = 2048
)

var (
	sessionNamePattern    = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	externalIDPattern     = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // and 2..1224 long
	sourceIdentityPattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	anyRoleARNPattern     = regexp.MustCompile(`^acs:ram::[0-9]+:role/[^/]+$`)
)

// assumeRoleResponse mirrors the SDK's AssumeRoleResponseBody.
type assumeRoleResponse struct {
	RequestID       string          `json:"RequestId"`
	AssumedRoleUser assumedRoleUser `json:"AssumedRoleUser"`
	Credentials     credentials     `json:"Credentials"`
	SourceIdentity  string          `json:"SourceIdentity,omitempty"`
}

type assumedRoleUser struct {
	Arn           string `json:"Arn"`
	AssumedRoleID string `json:"AssumedRoleId"`
}

type credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

// ServeHTTP is the STS endpoint: AssumeRole, version 2015-04-01, signed with
// ACS3-HMAC-SHA256. Parameters are read from the query string and from an
// application/x-www-form-urlencoded body.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	resp, caller, aerr := s.serve(r, requestID)
	if aerr != nil {
		s.log.Warn("stsserver: request rejected",
			"request_id", requestID, "caller", caller, "status", aerr.status, "code", aerr.code, "message", aerr.message)
		writeError(w, r, requestID, aerr)
		return
	}
	s.log.Info("stsserver: AssumeRole",
		"request_id", requestID, "caller", caller, "role", resp.AssumedRoleUser.Arn,
		"access_key_id", resp.Credentials.AccessKeyID, "expiration", resp.Credentials.Expiration)
	writeJSON(w, requestID, http.StatusOK, resp)
}

func (s *Service) serve(r *http.Request, requestID string) (*assumeRoleResponse, string, *apiError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		// Status and code unverified; POP APIs accept GET and POST only.
		return nil, "", newAPIError(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod",
			"Specified HTTP method %s is not supported.", r.Method)
	}
	if r.URL.Path != "/" {
		return nil, "", newAPIError(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	if act := r.Header.Get("x-acs-action"); act != "AssumeRole" {
		if act == "" {
			return nil, "", errMissing("Action")
		}
		return nil, "", newAPIError(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	if v := r.Header.Get("x-acs-version"); v != apiVersion {
		if v == "" {
			return nil, "", errMissing("Version")
		}
		return nil, "", newAPIError(http.StatusBadRequest, "InvalidVersion",
			"Specified parameter Version is not valid.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, "", newAPIError(http.StatusBadRequest, "InvalidParameter", "The request body could not be read.")
	}
	if len(body) > maxBodyBytes {
		return nil, "", newAPIError(http.StatusRequestEntityTooLarge, "InvalidParameter", "The request body is too large.")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, "", newAPIError(http.StatusBadRequest, "InvalidParameter", "The query string is malformed.")
	}
	// The signature covers one value per key; refuse ambiguity before checking it.
	for k, vs := range query {
		if len(vs) != 1 {
			return nil, "", errDuplicateParam(k)
		}
	}
	caller, aerr := s.authenticate(r, query, body)
	if aerr != nil {
		return nil, "", aerr
	}
	params, aerr := collectParams(r, query, body)
	if aerr != nil {
		return nil, caller, aerr
	}
	resp, aerr := s.assumeRole(params, requestID)
	return resp, caller, aerr
}

// collectParams merges query and form-body parameters. A parameter given
// twice is rejected rather than resolved, so what was signed and what is
// acted on cannot differ.
func collectParams(r *http.Request, query url.Values, body []byte) (map[string]string, *apiError) {
	sources := []url.Values{query}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, newAPIError(http.StatusBadRequest, "InvalidParameter", "The form body is malformed.")
		}
		sources = append(sources, form)
	}
	params := map[string]string{}
	for _, src := range sources {
		for k, vs := range src {
			if _, dup := params[k]; dup || len(vs) != 1 {
				return nil, errDuplicateParam(k)
			}
			params[k] = vs[0]
		}
	}
	return params, nil
}

// assumeRole validates the AssumeRole parameters and mints credentials.
func (s *Service) assumeRole(params map[string]string, requestID string) (*assumeRoleResponse, *apiError) {
	arn, sessionName := params["RoleArn"], params["RoleSessionName"]
	if arn == "" {
		return nil, errMissing("RoleArn")
	}
	if sessionName == "" {
		return nil, errMissing("RoleSessionName")
	}
	if !anyRoleARNPattern.MatchString(arn) {
		// Code unverified: real STS documents no code for a malformed ARN.
		return nil, errInvalidParam("RoleArn", "The parameter RoleArn is wrongly formed.")
	}
	if !sessionNamePattern.MatchString(sessionName) {
		return nil, errInvalidParam("RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	sessionPolicy, hasPolicy := params["Policy"]
	if hasPolicy {
		if n := utf8.RuneCountInString(sessionPolicy); n < 1 || n > maxPolicySize {
			return nil, errInvalidParam("PolicyGrammar", fmt.Sprintf(
				"The parameter Policy has not passed grammar check. Its length must be 1 to %d characters.", maxPolicySize))
		}
		if _, err := rampolicy.Parse([]byte(sessionPolicy)); err != nil {
			return nil, errInvalidParam("PolicyGrammar", "The parameter Policy has not passed grammar check. "+err.Error())
		}
	}
	if v, ok := params["ExternalId"]; ok && (len(v) < 2 || len(v) > 1224 || !externalIDPattern.MatchString(v)) {
		return nil, errInvalidParam("ExternalId", "The parameter ExternalId is wrongly formed.")
	}
	sourceIdentity, ok := params["SourceIdentity"]
	if ok && !sourceIdentityPattern.MatchString(sourceIdentity) {
		return nil, errInvalidParam("SourceIdentity", "The parameter SourceIdentity is wrongly formed.")
	}
	role, ok := s.roles[arn]
	if !ok {
		// 404 unverified; the code and message are what real STS returns.
		return nil, newAPIError(http.StatusNotFound, "EntityNotExist.Role", "The specified Role not exists: %s", arn)
	}
	duration := min(defaultSessionDuration, role.MaxSessionDuration)
	if v, ok := params["DurationSeconds"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		// Compare in seconds first: n is untrusted and could overflow a Duration.
		if err != nil || n < 1 || n > int64(role.MaxSessionDuration/time.Second) ||
			time.Duration(n)*time.Second < s.minDuration {
			return nil, errInvalidParam("DurationSeconds", fmt.Sprintf("The Min/Max value of DurationSeconds is %s/%s.",
				formatLimit(s.minDuration), formatLimit(role.MaxSessionDuration)))
		}
		duration = time.Duration(n) * time.Second
	}

	now := s.now().UTC()
	exp := now.Add(duration).Truncate(time.Second)
	keyID, err := newKeyID()
	if err != nil {
		return nil, internalError()
	}
	token, err := s.sealer.seal(claims{
		Version:        tokenVersion,
		KeyID:          keyID,
		RoleARN:        arn,
		SessionName:    sessionName,
		Expiration:     exp.Unix(),
		IssuedAt:       now.Unix(),
		Policy:         sessionPolicy,
		SourceIdentity: sourceIdentity,
	})
	if err != nil {
		return nil, internalError()
	}
	return &assumeRoleResponse{
		RequestID: requestID,
		AssumedRoleUser: assumedRoleUser{
			Arn:           arn + "/" + sessionName,
			AssumedRoleID: role.id + ":" + sessionName,
		},
		Credentials: credentials{
			AccessKeyID:     keyID,
			AccessKeySecret: s.sealer.secretFor(keyID),
			SecurityToken:   token,
			Expiration:      exp.Format(acsDateLayout),
		},
		SourceIdentity: sourceIdentity,
	}, nil
}

func errDuplicateParam(name string) *apiError {
	// Code unverified; real POP behaviour for repeated parameters is undocumented.
	return newAPIError(http.StatusBadRequest, "InvalidParameter", "The parameter %s is specified more than once.", name)
}

func internalError() *apiError {
	return newAPIError(http.StatusInternalServerError, "InternalError",
		"The request processing has failed due to some unknown error.")
}

// newRequestID returns a random id in the upper-case UUID form POP uses.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
