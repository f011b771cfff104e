package uploadpolicy

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/partplan"
)

func TestCheckAllowed(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		f    File
	}{
		{"zero policy, empty file", Policy{}, File{Name: "a.txt"}},
		{"max object size", Policy{}, File{Name: "big.bin", Size: partplan.MaxObjectSize}},
		{"unicode name", Policy{}, File{Name: "照片 Résumé 👩\u200d💻.jpg", Size: 5, Type: "image/jpeg"}},
		{"1024-byte name", Policy{}, File{Name: strings.Repeat("n", 1020) + ".txt"}},
		{"no type, no restriction", Policy{}, File{Name: "a", Size: 1}},
		{"type with parameters", Policy{}, File{Name: "a.txt", Type: "text/plain; charset=utf-8"}},
		{"wildcard type", Policy{AllowedTypes: []string{"image/*"}}, File{Name: "a.png", Type: "image/png"}},
		{"type case-insensitive", Policy{AllowedTypes: []string{"video/mp4"}}, File{Name: "a.mp4", Type: "Video/MP4"}},
		{"any type pattern", Policy{AllowedTypes: []string{"*/*"}}, File{Name: "a", Type: "application/x-thing"}},
		{"ext allowed", Policy{AllowedExts: []string{"jpg", "png"}}, File{Name: "A.JPG"}},
		{"min size met", Policy{MinSize: 10}, File{Name: "a", Size: 10}},
		{"max size met", Policy{MaxSize: 100}, File{Name: "a", Size: 100}},
		{"last modified now-ish", Policy{}, File{Name: "a", LastModified: 1709800000000}},
		{"last modified max", Policy{}, File{Name: "a", LastModified: MaxLastModified}},
		{"dots inside name", Policy{}, File{Name: "..a..b.."}},
		{"leading dot file", Policy{}, File{Name: ".env"}},
		// Neutralised by objectkey.SanitizeName, not refused.
		{"traversal", Policy{}, File{Name: "../../etc/passwd"}},
		{"backslashes", Policy{}, File{Name: `..\..\win.ini`}},
		{"dot dot", Policy{}, File{Name: ".."}},
		{"spaces", Policy{}, File{Name: " . "}},
		{"bidi override", Policy{}, File{Name: "invoice\u202egpj.exe"}},
		{"zero-width space", Policy{}, File{Name: "a\u200bb"}},
	}
	for _, tc := range tests {
		if vs := tc.p.Check(tc.f); vs != nil {
			t.Errorf("%s: Check(%+v) = %+v, want allowed", tc.name, tc.f, vs)
		}
	}
}

func TestCheckRefused(t *testing.T) {
	img := Policy{AllowedTypes: []string{"image/*", "video/mp4"}, AllowedExts: []string{"jpg", "mp4"}}
	tests := []struct {
		name  string
		p     Policy
		f     File
		field string
		code  string
		msg   string
	}{
		{"empty name", Policy{}, File{}, "name", CodeRequired, "empty"},
		{"10 KB name", Policy{}, File{Name: strings.Repeat("a", 10<<10)}, "name", CodeTooLong, "10240 bytes, the maximum is 1024"},
		{"custom name limit", Policy{MaxNameBytes: 8}, File{Name: "123456789"}, "name", CodeTooLong, "maximum is 8"},
		{"invalid UTF-8", Policy{}, File{Name: "a\xffb"}, "name", CodeInvalidUTF8, "UTF-8"},
		{"NUL", Policy{}, File{Name: "a\x00b.txt"}, "name", CodeInvalidCharacters, "U+0000 at byte 1"},
		{"newline", Policy{}, File{Name: "a\nb"}, "name", CodeInvalidCharacters, "U+000A"},
		{"C1", Policy{}, File{Name: "a\u0085"}, "name", CodeInvalidCharacters, "U+0085"},
		{"U+FFFD from JSON", Policy{}, File{Name: "a\ufffd.txt"}, "name", CodeInvalidUTF8, "U+FFFD at byte 1"},
		{"negative size", Policy{}, File{Name: "a", Size: -1}, "size", CodeNegative, "size -1 is negative"},
		{"over 48.8 TB", Policy{}, File{Name: "a", Size: 60000000000000}, "size", CodeTooLarge,
			"size 60000000000000 exceeds the maximum 53687091200000 bytes"},
		{"max size above OSS limit is clamped", Policy{MaxSize: 1 << 62}, File{Name: "a", Size: partplan.MaxObjectSize + 1}, "size", CodeTooLarge, "53687091200000"},
		{"over custom max", Policy{MaxSize: 100}, File{Name: "a", Size: 101}, "size", CodeTooLarge, "maximum 100 bytes"},
		{"under min", Policy{MinSize: 1}, File{Name: "a"}, "size", CodeTooSmall, "minimum 1 bytes"},
		{"type syntax", Policy{}, File{Name: "a", Type: "image"}, "type", CodeInvalid, "not a MIME type"},
		{"type with space", Policy{}, File{Name: "a", Type: "image/p ng"}, "type", CodeInvalid, "not a MIME type"},
		{"type with NUL", Policy{}, File{Name: "a", Type: "image/png\x00"}, "type", CodeInvalid, "not a MIME type"},
		{"type too long", Policy{}, File{Name: "a", Type: "a/" + strings.Repeat("b", 254)}, "type", CodeTooLong, "256 bytes"},
		{"type not allowed", img, File{Name: "a.jpg", Type: "text/html"}, "type", CodeTypeNotAllowed, `"text/html" is not allowed; allowed types: image/*, video/mp4`},
		{"type prefix trick", img, File{Name: "a.mp4", Type: "video/mp4x"}, "type", CodeTypeNotAllowed, "not allowed"},
		{"type missing", img, File{Name: "a.jpg"}, "type", CodeTypeNotAllowed, "unknown"},
		{"ext not allowed", img, File{Name: "a.exe", Type: "image/png"}, "name", CodeExtensionNotAllowed, `extension "exe" is not allowed; allowed extensions: jpg, mp4`},
		{"no ext", img, File{Name: "jpg", Type: "image/png"}, "name", CodeExtensionNotAllowed, "without an extension"},
		{"trailing dot hides ext", img, File{Name: "a.jpg.", Type: "image/png"}, "name", CodeExtensionNotAllowed, "without an extension"},
		{"trailing space hides ext", img, File{Name: "a.exe .jpg ", Type: "image/png"}, "name", CodeExtensionNotAllowed, "without an extension"},
		{"negative lastModified", Policy{}, File{Name: "a", LastModified: -1}, "lastModified", CodeNegative, "negative"},
		{"absurd lastModified", Policy{}, File{Name: "a", LastModified: MaxLastModified + 1}, "lastModified", CodeInvalid, "9999"},
	}
	for _, tc := range tests {
		vs := tc.p.Check(tc.f)
		if len(vs) != 1 {
			t.Errorf("%s: Check(%+v) = %+v, want one violation", tc.name, tc.f, vs)
			continue
		}
		v := vs[0]
		if v.Field != tc.field || v.Code != tc.code || !strings.Contains(v.Message, tc.msg) {
			t.Errorf("%s: got %+v, want %s/%s containing %q", tc.name, v, tc.field, tc.code, tc.msg)
		}
	}
}

func TestCheckReportsAll(t *testing.T) {
	p := Policy{AllowedTypes: []string{"image/*"}}
	vs := p.Check(File{Name: "a\x00", Size: -5, Type: "text/plain", LastModified: -1})
	var got []string
	for _, v := range vs {
		got = append(got, v.Field+"/"+v.Code)
	}
	want := []string{"name/invalid_characters", "size/negative", "type/type_not_allowed", "lastModified/negative"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("violations %v, want %v", got, want)
	}
	if s := vs[0].Error(); !strings.HasPrefix(s, "name: ") {
		t.Fatalf("Error() = %q", s)
	}
}

func TestParsePatterns(t *testing.T) {
	good := map[string][]string{
		"":                                nil,
		" , ":                             nil,
		"image/*, video/mp4":              {"image/*", "video/mp4"},
		"Image/PNG,image/png":             {"image/png"},
		"*/*":                             {"*/*"},
		"application/vnd.ms-excel":        {"application/vnd.ms-excel"},
		"application/x-7z-compressed , ,": {"application/x-7z-compressed"},
	}
	for spec, want := range good {
		got, err := ParsePatterns(spec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePatterns(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for _, spec := range []string{"image", "*/png", "image/p*", "*", "im age/png", "image/png;q=1", "/png", "image/", "a/b/c", "tëxt/plain"} {
		if got, err := ParsePatterns(spec); err == nil {
			t.Errorf("ParsePatterns(%q) = %q, want error", spec, got)
		}
	}
}

func TestParseExts(t *testing.T) {
	got, err := ParseExts(" jpg, .PNG ,mp4,jpg,, ")
	if err != nil || !reflect.DeepEqual(got, []string{"jpg", "png", "mp4"}) {
		t.Fatalf("ParseExts = %q, %v", got, err)
	}
	if got, err := ParseExts(""); err != nil || got != nil {
		t.Fatalf("ParseExts(\"\") = %q, %v", got, err)
	}
	for _, spec := range []string{".", "tar.gz", "j p g", "ü", strings.Repeat("x", 17)} {
		if got, err := ParseExts(spec); err == nil {
			t.Errorf("ParseExts(%q) = %q, want error", spec, got)
		}
	}
}

func TestValidate(t *testing.T) {
	good := []Policy{{}, {MaxSize: 100, MinSize: 100, AllowedTypes: []string{"image/*"}, AllowedExts: []string{"jpg"}, MaxNameBytes: 10}}
	for _, p := range good {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", p, err)
		}
	}
	bad := []Policy{
		{MaxSize: -1}, {MaxSize: partplan.MaxObjectSize + 1}, {MinSize: -1}, {MaxSize: 10, MinSize: 11},
		{MaxNameBytes: -1}, {AllowedTypes: []string{"Image/*"}}, {AllowedTypes: []string{"image"}},
		{AllowedExts: []string{".jpg"}}, {AllowedExts: []string{"JPG"}},
	}
	for _, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", p)
		}
	}
}

func FuzzPolicyCheck(f *testing.F) {
	f.Add("a.jpg", int64(1), "image/jpeg", int64(0), "image/*", "jpg")
	f.Add("../\x00\u202e", int64(-1), "x", int64(-1), "", "")
	f.Add(strings.Repeat("é", 600), int64(partplan.MaxObjectSize+1), "text/plain; charset=\"x\"", int64(MaxLastModified+1), "*/*", "")
	f.Fuzz(func(t *testing.T, name string, size int64, typ string, modified int64, types, exts string) {
		p := Policy{}
		p.AllowedTypes, _ = ParsePatterns(types)
		p.AllowedExts, _ = ParseExts(exts)
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy invalid: %v", err)
		}
		vs := p.Check(File{Name: name, Size: size, Type: typ, LastModified: modified})
		for _, v := range vs {
			if v.Field == "" || v.Code == "" || v.Message == "" {
				t.Fatalf("incomplete violation %+v", v)
			}
		}
		if vs == nil {
			// Whatever is allowed is safe to store and plan.
			if name == "" || size < 0 || size > partplan.MaxObjectSize || strings.ContainsAny(name, "\x00\ufffd") || !utf8.ValidString(name) {
				t.Fatalf("allowed %q size %d", name, size)
			}
			if _, err := partplan.New(size, partplan.Prefs{}); err != nil {
				t.Fatalf("allowed size %d cannot be planned: %v", size, err)
			}
		}
	})
}
