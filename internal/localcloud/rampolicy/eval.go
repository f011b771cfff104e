package rampolicy

import (
	"fmt"
	"strings"
)

// Request is what one OSS API call needs to be authorized.
type Request struct {
	// Action is the API action, e.g. "oss:PutObject". It is matched
	// case-insensitively against Action/NotAction patterns.
	Action string
	// Resource is the ARN of the target, e.g.
	// "acs:oss:cn-hangzhou:1000000000000000:dev-bucket/uploads/a/x.bin".
	// It is matched case-sensitively, field by field.
	Resource string
	// Context holds condition keys such as "oss:Prefix", "acs:SourceIp",
	// "acs:CurrentTime" and "acs:SecureTransport". Keys match
	// case-insensitively.
	Context map[string][]string
}

// Decision is the outcome of evaluating one policy.
type Decision int

const (
	// ImplicitDeny means no statement allowed the request.
	ImplicitDeny Decision = iota
	// Allow means an Allow statement applied and no Deny statement did.
	Allow
	// ExplicitDeny means a Deny statement applied; it overrides any Allow.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Evaluate decides req against p. A nil policy allows nothing.
func (p *Policy) Evaluate(req Request) Decision {
	if p == nil {
		return ImplicitDeny
	}
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		lk := strings.ToLower(k)
		ctx[lk] = append(ctx[lk], v...)
	}
	allowed := false
	for i := range p.statements {
		st := &p.statements[i]
		if !st.matchesTarget(req) {
			continue
		}
		cond := st.conditionsHold(ctx)
		if st.effect == effectDeny {
			// Fail closed: a Deny whose conditions cannot be evaluated applies.
			if cond != truthFalse {
				return ExplicitDeny
			}
			continue
		}
		// Fail closed: an Allow applies only if every condition is known true.
		if cond == truthTrue {
			allowed = true
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// AllowedByAll reports whether every policy allows req and none denies it
// explicitly. The effective rights of an STS session are the intersection of
// the role's policy and the session policy, so both must allow. With no
// policies nothing is allowed.
func AllowedByAll(req Request, ps ...*Policy) bool {
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if p.Evaluate(req) != Allow {
			return false
		}
	}
	return true
}

func (st *statement) matchesTarget(req Request) bool {
	hit := false
	for _, a := range st.actions {
		if matchAction(a, req.Action) {
			hit = true
			break
		}
	}
	if hit == st.notAction {
		return false
	}
	hit = false
	for _, r := range st.resources {
		if matchResource(r, req.Resource) {
			hit = true
			break
		}
	}
	return hit != st.notResource
}

// conditionsHold ANDs the statement's conditions: false if any is false,
// otherwise unknown if any is unknown, otherwise true.
func (st *statement) conditionsHold(ctx map[string][]string) truth {
	result := truthTrue
	for _, c := range st.conditions {
		switch c.evaluate(ctx) {
		case truthFalse:
			return truthFalse
		case truthUnknown:
			result = truthUnknown
		}
	}
	return result
}
