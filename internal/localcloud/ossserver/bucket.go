package ossserver

import (
	"encoding/xml"
	"net/http"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// maxCORSRules is OSS's limit on rules per bucket.
const maxCORSRules = 10

func (h *Handler) putBucket(c *call) error {
	if err := h.cfg.Store.CreateBucket(c.bucket); err != nil {
		return err
	}
	c.w.Header().Set("Location", "/"+c.bucket)
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func malformedXML() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
}

func (h *Handler) putBucketCors(c *call) error {
	var cfg corsConfiguration
	if err := xml.Unmarshal(c.body, &cfg); err != nil || len(cfg.Rules) == 0 {
		return malformedXML()
	}
	if len(cfg.Rules) > maxCORSRules {
		return osserr.New(http.StatusBadRequest, "InvalidArgument", "The number of CORS rules must not exceed 10.")
	}
	var rules []ossstore.CORSRule
	for _, r := range cfg.Rules {
		if len(r.AllowedOrigin) == 0 || len(r.AllowedMethod) == 0 {
			return malformedXML()
		}
		for _, m := range r.AllowedMethod {
			switch m {
			case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead:
			default:
				return osserr.New(http.StatusBadRequest, "InvalidArgument", "Unsupported method "+m+" in a CORS rule.")
			}
		}
		rule := ossstore.CORSRule{AllowedOrigins: r.AllowedOrigin, AllowedMethods: r.AllowedMethod, AllowedHeaders: r.AllowedHeader, ExposeHeaders: r.ExposeHeader}
		if r.MaxAgeSeconds != nil {
			rule.MaxAgeSeconds = *r.MaxAgeSeconds
		}
		rules = append(rules, rule)
	}
	vary := cfg.ResponseVary != nil && *cfg.ResponseVary
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error {
		b.CORS, b.ResponseVary = rules, vary
		return nil
	}); err != nil {
		return err
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getBucketCors(c *call) error {
	if len(c.bucketCfg.CORS) == 0 {
		return osserr.New(http.StatusNotFound, "NoSuchCORSConfiguration", "The CORS configuration does not exist.").With("BucketName", c.bucket)
	}
	vary := c.bucketCfg.ResponseVary
	out := corsConfiguration{ResponseVary: &vary}
	for _, r := range c.bucketCfg.CORS {
		age := r.MaxAgeSeconds
		out.Rules = append(out.Rules, corsRuleXML{AllowedOrigin: r.AllowedOrigins, AllowedMethod: r.AllowedMethods, AllowedHeader: r.AllowedHeaders, ExposeHeader: r.ExposeHeaders, MaxAgeSeconds: &age})
	}
	return writeXML(c.w, out)
}

func (h *Handler) deleteBucketCors(c *call) error {
	if err := h.cfg.Store.UpdateBucket(c.bucket, func(b *ossstore.Bucket) error {
		b.CORS, b.ResponseVary = nil, false
		return nil
	}); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
