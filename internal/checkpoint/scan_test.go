package checkpoint

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// jsonStringAfter finds what the regexp it replaced found, on generated
// fragments of damaged records: whitespace, colons, quotes, escapes and line
// breaks in every order, and keys repeated or cut short.
func TestJSONStringAfterMatchesTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`"ticket"\s*:\s*("(?:[^"\\]|\\.)*")`)
	atoms := []string{`"ticket"`, `ticket"`, `"ticke`, `"tick"`, ` `, "\t", "\n", "\r", "\f", "\v", `:`, `"`, `\`, `\"`, `\\`, "\\\n", `a`, `é`, "\xff", `,`, `{`, `}`, `"uploadId"`}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		var b []byte
		for n := r.IntN(14); n > 0; n-- {
			b = append(b, atoms[r.IntN(len(atoms))]...)
		}
		var want []byte
		if m := re.FindSubmatch(b); m != nil {
			want = m[1]
		}
		if got := jsonStringAfter(b, `"ticket"`); string(got) != string(want) || (got == nil) != (want == nil) {
			t.Fatalf("%q: got %q, the regexp %q", b, got, want)
		}
	}
}
