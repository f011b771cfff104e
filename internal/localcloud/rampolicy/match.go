package rampolicy

import "strings"

// wildcardMatch reports whether s matches pattern, where '*' matches any run
// of characters (including '/' and ':') and '?' matches exactly one
// character. It runs in O(len(s)*len(pattern)) at worst, never exponential.
func wildcardMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p := []rune(pattern)
	t := []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			// Let the last star absorb one more character and retry.
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchAction matches an action pattern (already lower-cased) against a
// request action, case-insensitively.
func matchAction(pattern, action string) bool {
	return wildcardMatch(pattern, strings.ToLower(action))
}

// matchResource matches a resource pattern against a request ARN field by
// field, so that a wildcard in the region or account field can never reach
// into the bucket/key part (object keys may contain colons).
func matchResource(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	pf := strings.SplitN(pattern, ":", 5)
	af := strings.SplitN(arn, ":", 5)
	if len(pf) != 5 || len(af) != 5 {
		return false
	}
	for i := range pf {
		if !wildcardMatch(pf[i], af[i]) {
			return false
		}
	}
	return true
}
