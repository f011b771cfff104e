package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// CORSConfig configures CORS.
type CORSConfig struct {
	// Skipper, if set, lets a request through without CORS handling.
	Skipper func(echo.Context) bool
	// Origins are the allowed origins; "*" allows any origin, without
	// credentials.
	Origins       []string
	AllowMethods  []string
	AllowHeaders  []string
	ExposeHeaders []string
	MaxAge        int // seconds
}

// CORS answers cross-origin requests as the configuration allows. An origin
// listed by name is echoed with Access-Control-Allow-Credentials: true, so a
// page there may send cookies (the dev identity) or other credentials. "*"
// admits every other origin with Access-Control-Allow-Origin: * and never
// Allow-Credentials: browsers refuse credentials on a wildcard answer, and
// echoing any origin with credentials would let every site act as the
// signed-in user. Any other origin gets no CORS headers, so the browser
// withholds the answer. Every answer varies by Origin.
//
// Echo's middleware.CORS echoes the origin for an AllowOriginFunc and
// decides Allow-Credentials once for all origins, which cannot say both.
func CORS(cfg CORSConfig) echo.MiddlewareFunc {
	named := map[string]bool{}
	wildcard := false
	for _, o := range cfg.Origins {
		if o == "*" {
			wildcard = true
		} else {
			named[o] = true
		}
	}
	methods := strings.Join(cfg.AllowMethods, ",")
	headers := strings.Join(cfg.AllowHeaders, ",")
	expose := strings.Join(cfg.ExposeHeaders, ",")
	maxAge := strconv.Itoa(cfg.MaxAge)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper != nil && cfg.Skipper(c) {
				return next(c)
			}
			r, h := c.Request(), c.Response().Header()
			origin := r.Header.Get(echo.HeaderOrigin)
			preflight := r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
			h.Add(echo.HeaderVary, echo.HeaderOrigin)
			if origin == "" {
				if preflight {
					return c.NoContent(http.StatusNoContent)
				}
				return next(c)
			}
			switch {
			case named[origin]:
				h.Set(echo.HeaderAccessControlAllowOrigin, origin)
				h.Set(echo.HeaderAccessControlAllowCredentials, "true")
			case wildcard:
				h.Set(echo.HeaderAccessControlAllowOrigin, "*")
			default:
				if preflight {
					return c.NoContent(http.StatusNoContent)
				}
				return next(c)
			}
			if !preflight {
				if expose != "" {
					h.Set(echo.HeaderAccessControlExposeHeaders, expose)
				}
				return next(c)
			}
			h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestMethod)
			h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestHeaders)
			h.Set(echo.HeaderAccessControlAllowMethods, methods)
			h.Set(echo.HeaderAccessControlAllowHeaders, headers)
			h.Set(echo.HeaderAccessControlMaxAge, maxAge)
			return c.NoContent(http.StatusNoContent)
		}
	}
}
