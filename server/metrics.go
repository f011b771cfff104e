//go:build !js

package server

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the backend's Prometheus metrics, in a registry of its own so
// two servers in one process (tests) do not collide.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	sessions  prometheus.Counter
	refreshes prometheus.Counter
	completes *prometheus.CounterVec
	aborts    prometheus.Counter
	janitor   prometheus.Counter
}

// NewMetrics registers the metrics; stsCalls, if given, reports AssumeRole
// calls and cache hits.
func NewMetrics(stsCalls func() (calls, hits int64)) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ossup_http_requests_total", Help: "API requests by route, method and status."}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ossup_http_request_duration_seconds", Help: "API request latency by route.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"route"})
	m.sessions = prometheus.NewCounter(prometheus.CounterOpts{Name: "ossup_upload_sessions_created_total", Help: "Upload sessions created."})
	m.refreshes = prometheus.NewCounter(prometheus.CounterOpts{Name: "ossup_credential_refreshes_total", Help: "Credential refreshes for existing tickets."})
	m.completes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ossup_upload_completions_total", Help: "Complete calls by result (ok, mismatch, missing, webhook_failed)."}, []string{"result"})
	m.aborts = prometheus.NewCounter(prometheus.CounterOpts{Name: "ossup_upload_aborts_total", Help: "Uploads aborted through the API."})
	m.janitor = prometheus.NewCounter(prometheus.CounterOpts{Name: "ossup_janitor_aborted_total", Help: "Abandoned multipart uploads aborted by the janitor."})
	f(m.requests)
	f(m.latency)
	f(m.sessions)
	f(m.refreshes)
	f(m.completes)
	f(m.aborts)
	f(m.janitor)
	f(prometheus.NewGoCollector())
	if stsCalls != nil {
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ossup_sts_assume_role_total", Help: "AssumeRole calls made to STS."}, func() float64 { c, _ := stsCalls(); return float64(c) }))
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ossup_sts_cache_hits_total", Help: "Credential requests served from the per-prefix cache."}, func() float64 { _, h := stsCalls(); return float64(h) }))
	}
	return m
}

// middleware records every request by its route pattern (never the raw
// path, which would explode the label set).
func (m *Metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			if ae, ok := err.(*apiError); ok {
				status = ae.Status
			} else if he, ok := err.(*echo.HTTPError); ok {
				status = he.Code
			}
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return err
	}
}

// handler serves /metrics; the route is guarded by AdminGuard.
func (m *Metrics) handler() echo.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c echo.Context) error {
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
