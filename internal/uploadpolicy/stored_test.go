package uploadpolicy

import "testing"

func TestStoreDecidesTypeAndDisposition(t *testing.T) {
	def := Policy{}
	for _, tc := range []struct {
		p                Policy
		declared         string
		wantType, wantCD string
	}{
		{def, "image/png", "image/png", ""},
		{def, "IMAGE/PNG", "image/png", ""},
		{def, "video/mp4", "video/mp4", ""},
		{def, "text/plain; charset=UTF-8", "text/plain; charset=UTF-8", ""},
		{def, "", DefaultType, Attachment},
		{def, "application/octet-stream", DefaultType, Attachment},
		// Types a browser executes are attachments, also through a
		// wildcard that would otherwise cover them.
		{def, "text/html", "text/html", Attachment},
		{def, "text/html; charset=utf-8", "text/html; charset=utf-8", Attachment},
		{def, "image/svg+xml", "image/svg+xml", Attachment},
		{def, "application/xhtml+xml", "application/xhtml+xml", Attachment},
		{def, "text/xml", "text/xml", Attachment},
		{def, "application/atom+xml", "application/atom+xml", Attachment},
		{def, "text/javascript", "text/javascript", Attachment},
		{def, "application/javascript", "application/javascript", Attachment},
		{Policy{InlineTypes: []string{"*/*"}}, "text/html", "text/html", Attachment},
		{Policy{InlineTypes: []string{"*/*"}}, "application/zip", "application/zip", ""},
		// Listed exactly, an active type is the operator's explicit choice.
		{Policy{InlineTypes: []string{"image/svg+xml"}}, "image/svg+xml", "image/svg+xml", ""},
		{Policy{InlineTypes: []string{}}, "image/png", "image/png", Attachment},
	} {
		got := tc.p.Store(File{Name: "f", Type: tc.declared})
		if got.ContentType != tc.wantType || got.ContentDisposition != tc.wantCD {
			t.Errorf("inline %v, declared %q: stored as %+v, want type %q disposition %q", tc.p.InlineTypes, tc.declared, got, tc.wantType, tc.wantCD)
		}
	}
}

func TestValidateInlineTypes(t *testing.T) {
	if err := (Policy{InlineTypes: []string{"Image/PNG"}}).Validate(); err == nil {
		t.Fatal("an upper-case inline pattern was accepted")
	}
}
