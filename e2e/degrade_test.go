package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// features are the engine's APIs that the demo and the uploader use only
// where they exist.
type features struct {
	OpenFilePicker   bool // window.showOpenFilePicker (Chromium)
	DropHandles      bool // DataTransferItem.getAsFileSystemHandle (Chromium)
	PermissionCalls  bool // FileSystemHandle.queryPermission (Chromium)
	OPFS             bool // navigator.storage.getDirectory
	WebLocks         bool // navigator.locks
	PickHandleButton bool // the demo's "pick files (resume without picking again)" button
	Buttons          []struct {
		Text    string
		Handled bool
	}
}

const featuresJS = `({
  OpenFilePicker: typeof window.showOpenFilePicker === 'function',
  DropHandles: typeof DataTransferItem !== 'undefined' && typeof DataTransferItem.prototype.getAsFileSystemHandle === 'function',
  PermissionCalls: typeof FileSystemHandle !== 'undefined' && typeof FileSystemHandle.prototype.queryPermission === 'function',
  OPFS: !!(navigator.storage && navigator.storage.getDirectory),
  WebLocks: !!navigator.locks,
  PickHandleButton: !!document.getElementById('pick-handles'),
  Buttons: [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null)
    .map(b => ({ Text: b.textContent, Handled: typeof b.onclick === 'function' })),
})`

// TestChromiumOnlyFeaturesDegrade: what only Chromium has (the file
// picker that returns handles, handles from a drop, the permission calls)
// is offered only where it exists, so the demo shows no button that cannot
// work, and a drop in an engine without drop handles still uploads the
// dropped file, identical. The engines' feature sets are asserted, so a
// browser that gains or loses one shows up here.
func TestChromiumOnlyFeaturesDegrade(t *testing.T) {
	inEngines(t, browser.Engines, testChromiumOnlyFeaturesDegrade)
}

func testChromiumOnlyFeaturesDegrade(t *testing.T, e browser.Engine) {
	srv, base := backend(t, nil)
	pg := openDemo(t, e, base)
	f, err := evalAs[features](pg, featuresJS)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	t.Logf("features: %s", b)
	chromium := e == browser.Chromium
	if f.OpenFilePicker != chromium || f.DropHandles != chromium || f.PermissionCalls != chromium {
		t.Errorf("file picker %v, drop handles %v, permission calls %v: want them exactly in Chromium", f.OpenFilePicker, f.DropHandles, f.PermissionCalls)
	}
	if f.OPFS != (e != browser.WebKit) {
		t.Errorf("OPFS %v: Chromium and Firefox have it, this MiniBrowser not", f.OPFS)
	}
	if !f.WebLocks {
		t.Error("no Web Locks on a loopback (secure) origin")
	}
	if f.PickHandleButton != f.OpenFilePicker {
		t.Errorf("the pick-with-handles button is shown: %v, showOpenFilePicker exists: %v", f.PickHandleButton, f.OpenFilePicker)
	}
	for _, btn := range f.Buttons {
		if !btn.Handled {
			t.Errorf("button %q does nothing", btn.Text)
		}
	}

	// A drop as the browser delivers it: a DataTransfer with a File (no
	// handle behind it, as in every engine without drop handles).
	const drop = `(() => {
  const bytes = new Uint8Array(300000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 255;
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], 'dropped.bin', { type: 'application/octet-stream' }));
  document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  return true;
})()`
	if _, err := evalAs[bool](pg, drop); err != nil {
		t.Fatalf("drop: %v", err)
	}
	res := waitResults(pg, t, 1, time.Minute)
	want := make([]byte, 300000)
	for i := range want {
		want[i] = byte(i*31 + 7)
	}
	if res[0].Name != "dropped.bin" {
		t.Fatalf("uploaded %q", res[0].Name)
	}
	checkStored(t, srv, res[0], want)

	// The upload's row and the redrawn resumable list bring buttons of
	// their own: none of them is dead either.
	after, err := evalAs[features](pg, featuresJS)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Buttons) == 0 {
		t.Error("the finished upload's row shows no buttons")
	}
	for _, btn := range after.Buttons {
		if !btn.Handled {
			t.Errorf("after the upload, button %q does nothing", btn.Text)
		}
	}
}
