package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
)

// widgetJS defines W(), the widget's rows as the page shows them: for each
// row its name, state (data-state and words), progressbar, the actions
// offered (visible buttons), thumbnail, link and error; and the
// widget-wide controls.
const widgetJS = `(() => {
  const w = document.querySelector('ossup-uploader'), r = w.shadowRoot;
  const vis = (e) => e && !e.hidden;
  const btn = (b) => ({ part: b.getAttribute('part'), text: b.textContent, label: b.getAttribute('aria-label'), tag: b.tagName, tabIndex: b.tabIndex });
  return {
    lang: w.language,
    pickFiles: btn(r.querySelector('[part~=pick-files]')), pickFolder: btn(r.querySelector('[part~=pick-folder]')),
    inputs: [...r.querySelectorAll('input')].map((i) => i.tabIndex),
    live: { role: r.querySelector('[role=status]').getAttribute('role'), ariaLive: r.querySelector('[role=status]').getAttribute('aria-live'), text: r.querySelector('[role=status]').textContent },
    total: { role: r.querySelector('[part~=total-progress]').getAttribute('role'), now: r.querySelector('[part~=total-progress]').getAttribute('aria-valuenow'),
      label: r.querySelector('[part~=total-progress]').getAttribute('aria-label'), text: r.querySelector('[part~=total-text]').textContent },
    focused: r.activeElement ? r.activeElement.getAttribute('part') + ' ' + (r.activeElement.getAttribute('aria-label') || '') : '',
    groups: [...r.querySelectorAll('li.group')].map((g) => g.textContent),
    rows: [...r.querySelectorAll('li.item')].map((li) => {
      const pb = li.querySelector('[role=progressbar]');
      return {
        name: li.querySelector('[part~=name]').textContent, state: li.dataset.state, stateText: li.querySelector('[part~=state]').textContent,
        now: pb.getAttribute('aria-valuenow'), min: pb.getAttribute('aria-valuemin'), max: pb.getAttribute('aria-valuemax'), label: pb.getAttribute('aria-label'),
        actions: [...li.querySelectorAll('button')].filter(vis).map(btn),
        thumb: (li.querySelector('img[part~=thumbnail]') || {}).src || '',
        link: vis(li.querySelector('[part~=link]')) ? li.querySelector('[part~=link]').href : '',
        error: vis(li.querySelector('[part~=error]')) ? li.querySelector('[part~=error]').textContent : '',
      };
    }),
  };
})()`

type widgetButton struct {
	Part, Text, Label, Tag string
	TabIndex               int
}

type widgetRow struct {
	Name, State, StateText, Now, Min, Max, Label, Thumb, Link, Error string
	Actions                                                          []widgetButton
}

type widgetView struct {
	Lang       string
	PickFiles  widgetButton
	PickFolder widgetButton
	Inputs     []int
	Live       struct{ Role, AriaLive, Text string }
	Total      struct{ Role, Now, Label, Text string }
	Focused    string
	Groups     []string
	Rows       []widgetRow
}

func (v widgetView) row(t testing.TB, name string) widgetRow {
	t.Helper()
	for _, r := range v.Rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %q among %+v", name, v.Rows)
	return widgetRow{}
}

// actions are the parts of the buttons a row offers, e.g. "button pause".
func (r widgetRow) actions() []string {
	var out []string
	for _, b := range r.Actions {
		out = append(out, strings.TrimPrefix(b.Part, "button "))
	}
	return out
}

func viewWidget(pg *tab, t testing.TB) widgetView {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(`+widgetJS+`)`)
	if err != nil {
		t.Fatal(err)
	}
	var v widgetView
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitRow polls until the named row is in state.
func waitRow(pg *tab, t testing.TB, name, state string, timeout time.Duration) {
	t.Helper()
	js := `[...document.querySelector('ossup-uploader').shadowRoot.querySelectorAll('li.item')].some((li) => li.querySelector('[part~=name]').textContent === ` +
		strconv.Quote(name) + ` && li.dataset.state === ` + strconv.Quote(state) + `)`
	if _, err := pollAs[bool](pg, js, timeout); err != nil {
		t.Fatalf("%s never reached %s: %v; the widget shows %+v", name, state, err, viewWidget(pg, t).Rows)
	}
}

// press focuses a row's button and activates it, as Enter on a focused
// button does.
func press(pg *tab, t testing.TB, name, action string) {
	t.Helper()
	js := `(() => { const li = [...document.querySelector('ossup-uploader').shadowRoot.querySelectorAll('li.item')].find((li) => li.querySelector('[part~=name]').textContent === ` +
		strconv.Quote(name) + `); const b = li.querySelector('[part~=` + action + `]'); if (b.hidden) throw new Error('` + action + ` is not offered'); b.focus(); b.click(); return true; })()`
	if _, err := evalAs[bool](pg, js); err != nil {
		t.Fatalf("press %s on %s: %v", action, name, err)
	}
}

type widgetResult struct {
	Path, Name, Bucket, Key, CRC64 string
	Size                           int64
}

func widgetResults(pg *tab, t testing.TB) []widgetResult {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupWidget.results)`)
	if err != nil {
		t.Fatal(err)
	}
	var rs []widgetResult
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func resultFor(t testing.TB, rs []widgetResult, name string) widgetResult {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s among %+v", name, rs)
	return widgetResult{}
}

// openWidget opens the widget page and waits until its uploader is ready.
func openWidget(t testing.TB, e browser.Engine, base, query string) *tab {
	t.Helper()
	pg := launch(t, e, browser.Options{}, 4*time.Minute)
	if err := pg.navigate(base + "/" + query); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `(w => !!(w && w.uploader))(document.querySelector('ossup-uploader'))`, 30*time.Second); err != nil {
		t.Fatalf("the widget made no uploader: %v", err)
	}
	if _, err := evalAs[string](pg, `document.querySelector('ossup-uploader').uploader.ready`); err != nil {
		t.Fatalf("engine not ready: %v", err)
	}
	return pg
}

// tinyPNG is a 1x1 PNG, so the thumbnail is a real decodable image.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

// TestWidget drives <ossup-uploader> as a person would, in every engine: pick
// files through its own picker, pause and resume from the keyboard focus
// (focus moves from Pause to Resume), cancel, a failure shown in plain words
// with the engine's hint, retry, done rows that offer no Pause/Resume/Cancel
// but a link, a thumbnail for the image, per-file and total progressbars,
// the live region, and the same widget in Chinese. Every object is read back
// byte for byte.
func TestWidget(t *testing.T) {
	inEngines(t, browser.Engines, testWidget)
}

func testWidget(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	pg := openWidget(t, e, base, "")
	if _, err := evalAs[bool](pg, `(() => {
	  const w = document.querySelector('ossup-uploader'), live = w.shadowRoot.querySelector('[role=status]');
	  window.ossupWidget.said = [];
	  new MutationObserver(() => live.textContent && window.ossupWidget.said.push(live.textContent)).observe(live, { childList: true, characterData: true, subtree: true });
	  w.setAttribute('object-url', location.origin + '/files/{key}');
	  return true;
	})()`); err != nil {
		t.Fatal(err)
	}

	v := viewWidget(pg, t)
	if v.Lang != "en" || v.PickFiles.Text != "Choose files" || v.PickFolder.Text != "Choose folder" || v.PickFiles.Tag != "BUTTON" || v.PickFiles.TabIndex != 0 {
		t.Errorf("pickers: %+v %+v (lang %s), want focusable buttons named Choose files / Choose folder", v.PickFiles, v.PickFolder, v.Lang)
	}
	if !slices.Equal(v.Inputs, []int{-1, -1}) {
		t.Errorf("the hidden inputs' tab indexes are %v: the buttons, not the inputs, take the focus", v.Inputs)
	}
	if v.Live.Role != "status" || v.Live.AriaLive != "polite" || v.Total.Role != "progressbar" || v.Total.Label != "Total upload progress" {
		t.Errorf("live region %+v, total %+v", v.Live, v.Total)
	}

	dir := t.TempDir()
	// A failure in plain words with the engine's hint, then Retry. First,
	// while no OSS route has answered yet: a refused CORS preflight on a
	// route that answered before is retried for the engine's patience.
	old := setBucketCORS(t, srv, "https://elsewhere.example", "ETag", "x-oss-hash-crc64ecma", "x-oss-request-id")
	failPath, failBytes := writeFile(t, dir, "retry.bin", 600_000)
	pickWidget(pg, t, "input.files", failPath)
	waitRow(pg, t, "retry.bin", "failed", time.Minute)
	r := viewWidget(pg, t).row(t, "retry.bin")
	if !strings.Contains(r.Error, "Check the network") || !strings.Contains(r.Error, "<AllowedOrigin>") {
		t.Errorf("the failure reads %q: want plain words and the CORS hint", r.Error)
	}
	if got := r.actions(); !slices.Equal(got, []string{"retry", "remove"}) {
		t.Errorf("a failed upload offers %v, want retry, remove", got)
	}
	bucket := oss.Ptr(srv.Cloud().Config.Bucket)
	if _, err := rootOSS(srv).PutBucketCors(context.Background(), &oss.PutBucketCorsRequest{Bucket: bucket, CORSConfiguration: old}); err != nil {
		t.Fatal(err)
	}
	press(pg, t, "retry.bin", "retry")
	waitRow(pg, t, "retry.bin", "done", time.Minute)
	if got := readBack(t, srv, resultFor(t, widgetResults(pg, t), "retry.bin").Key); !bytes.Equal(got, failBytes) {
		t.Errorf("retry.bin: stored %d bytes differ from the %d sent", len(got), len(failBytes))
	}
	if r := viewWidget(pg, t).row(t, "retry.bin"); r.Error != "" || !slices.Equal(r.actions(), []string{"remove"}) {
		t.Errorf("after a successful retry: %+v", r)
	}

	slowPath, slow := writeFile(t, dir, "slow.bin", 3<<20+12345)
	imgPath := filepath.Join(dir, "pixel.png")
	if err := os.WriteFile(imgPath, tinyPNG, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	pickWidget(pg, t, "input.files", slowPath, imgPath)
	waitRow(pg, t, "slow.bin", "uploading", time.Minute)
	v = viewWidget(pg, t)
	r = v.row(t, "slow.bin")
	if got := r.actions(); !slices.Equal(got, []string{"pause", "cancel"}) {
		t.Errorf("an upload in progress offers %v, want pause, cancel", got)
	}
	if r.Label != "Upload progress of slow.bin" || r.Min != "0" || r.Max != "100" || r.Actions[0].Label != "Pause slow.bin" {
		t.Errorf("row's ARIA: %+v", r)
	}
	if img := v.row(t, "pixel.png"); !strings.HasPrefix(img.Thumb, "blob:") {
		t.Errorf("the image has no thumbnail: %+v", img)
	}
	if r := v.row(t, "slow.bin"); r.Thumb != "" {
		t.Errorf("a .bin file got a thumbnail: %s", r.Thumb)
	}

	press(pg, t, "slow.bin", "pause")
	waitRow(pg, t, "slow.bin", "paused", 30*time.Second)
	v = viewWidget(pg, t)
	if got := v.row(t, "slow.bin").actions(); !slices.Equal(got, []string{"resume", "cancel"}) {
		t.Errorf("a paused upload offers %v, want resume, cancel", got)
	}
	if v.Focused != "button resume Resume slow.bin" {
		t.Errorf("after Pause the focus is on %q, want the row's Resume", v.Focused)
	}
	// Other rows speak too (pixel.png's states), so what was said is
	// collected rather than the region's last words read.
	if _, err := pollAs[bool](pg, `window.ossupWidget.said.includes('slow.bin: Paused')`, 10*time.Second); err != nil {
		said, _ := evalAs[string](pg, `JSON.stringify(window.ossupWidget.said)`)
		t.Errorf("the live region never said slow.bin: Paused; it said %s", said)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	press(pg, t, "slow.bin", "resume")
	waitRow(pg, t, "slow.bin", "done", time.Minute)
	waitRow(pg, t, "pixel.png", "done", time.Minute)

	v = viewWidget(pg, t)
	rs := widgetResults(pg, t)
	for name, want := range map[string][]byte{"slow.bin": slow, "pixel.png": tinyPNG} {
		res := resultFor(t, rs, name)
		if got := readBack(t, srv, res.Key); !bytes.Equal(got, want) {
			t.Errorf("%s: stored %d bytes differ from the %d sent", name, len(got), len(want))
		}
		row := v.row(t, name)
		if got := row.actions(); !slices.Equal(got, []string{"remove"}) {
			t.Errorf("%s is done and offers %v, want remove only", name, got)
		}
		if row.Now != "100" || row.StateText != "Done" {
			t.Errorf("%s done: %+v", name, row)
		}
		if !strings.HasSuffix(row.Link, "/files/"+res.Key) {
			t.Errorf("%s links to %q, want the object-url template with key %s", name, row.Link, res.Key)
		}
	}
	if v.Total.Now != "100" || v.Total.Text != "3 of 3 uploaded · 100%" {
		t.Errorf("total: %+v", v.Total)
	}

	// Cancel: the row keeps only Remove.
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 128 << 10}); err != nil {
		t.Fatal(err)
	}
	cancelPath, _ := writeFile(t, dir, "cancel.bin", 2<<20)
	pickWidget(pg, t, "input.files", cancelPath)
	waitRow(pg, t, "cancel.bin", "uploading", time.Minute)
	press(pg, t, "cancel.bin", "cancel")
	waitRow(pg, t, "cancel.bin", "canceled", 30*time.Second)
	if got := viewWidget(pg, t).row(t, "cancel.bin").actions(); !slices.Equal(got, []string{"remove"}) {
		t.Errorf("a canceled upload offers %v, want remove only", got)
	}
	if err := srv.Cloud().Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	press(pg, t, "cancel.bin", "remove")
	if v := viewWidget(pg, t); len(v.Rows) != 3 || v.Total.Text != "3 of 3 uploaded · 100%" {
		t.Errorf("after Remove: %d rows, total %q", len(v.Rows), v.Total.Text)
	}

	// The same widget in Chinese.
	if _, err := evalAs[bool](pg, `(document.querySelector('ossup-uploader').setAttribute('lang', 'zh-CN'), true)`); err != nil {
		t.Fatal(err)
	}
	v = viewWidget(pg, t)
	if v.Lang != "zh-CN" || v.PickFiles.Text != "选择文件" || v.PickFolder.Text != "选择文件夹" || v.Total.Label != "总上传进度" ||
		v.Total.Text != "已上传 3/3 个文件 · 100%" {
		t.Errorf("in Chinese: %+v %+v %+v", v.PickFiles, v.PickFolder, v.Total)
	}
	r = v.row(t, "slow.bin")
	if r.StateText != "已完成" || r.Label != "slow.bin 的上传进度" || r.Actions[0].Text != "移除" || r.Actions[0].Label != "移除：slow.bin" {
		t.Errorf("a done row in Chinese: %+v", r)
	}
}

// TestWidgetLanguageFromNavigator: without a lang attribute the widget
// speaks the browser's language.
func TestWidgetLanguageFromNavigator(t *testing.T) {
	inEngines(t, browser.Engines, func(t *testing.T, e browser.Engine) {
		_, base := backend(t, nil)
		pg := openWidget(t, e, base, "")
		v, err := evalAs[string](pg, `(() => { Object.defineProperty(navigator, 'language', { value: 'zh-TW', configurable: true });
			const w = document.createElement('ossup-uploader'); w.uploader = document.querySelector('ossup-uploader').uploader; document.body.append(w);
			return w.language + ' ' + w.shadowRoot.querySelector('[part~=pick-files]').textContent; })()`)
		if err != nil {
			t.Fatal(err)
		}
		if v != "zh-CN 选择文件" {
			t.Errorf("with navigator.language zh-TW the widget speaks %q", v)
		}
	})
}

// pickWidget picks files through one of the widget's inputs ("input.files"
// or "input.folder"), inside its shadow root. WebKit's WebDriver finds
// elements in the document only, so there the files are picked, as real
// files from disk, in an input of the page's own (light DOM) and dropped
// on the widget's drop zone with a DataTransfer holding them, made in the
// page: the widget's real drop path, with the browser's own File objects.
func pickWidget(pg *tab, t testing.TB, input string, paths ...string) {
	t.Helper()
	if pg.b.Engine() != browser.WebKit {
		if err := pg.p.SetFiles(pg.ctx, "ossup-uploader >>> "+input, paths...); err != nil {
			t.Fatalf("pick files: %v", err)
		}
		return
	}
	if input != "input.files" {
		t.Fatalf("pickWidget %s: WebKit's WebDriver cannot pick a folder; drop one (dropFolder)", input)
	}
	if _, err := evalAs[bool](pg, `(() => {
	  if (document.getElementById('e2e-pick')) return true;
	  const i = Object.assign(document.createElement('input'), { type: 'file', multiple: true, id: 'e2e-pick', hidden: true });
	  i.addEventListener('change', () => {
	    const dt = new DataTransfer();
	    for (const f of i.files) dt.items.add(f);
	    const ev = typeof DragEvent === 'function' ? new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }) : new Event('drop', { bubbles: true, cancelable: true });
	    if (!ev.dataTransfer) Object.defineProperty(ev, 'dataTransfer', { value: dt });
	    document.querySelector('ossup-uploader').shadowRoot.querySelector('[part~=dropzone]').dispatchEvent(ev);
	    window.ossupPicked = (window.ossupPicked || 0) + dt.files.length;
	    i.value = '';
	  });
	  document.body.append(i);
	  return true;
	})()`); err != nil {
		t.Fatal(err)
	}
	before, _ := evalAs[int](pg, `window.ossupPicked || 0`)
	if err := pg.p.SetFiles(pg.ctx, "#e2e-pick", paths...); err != nil {
		t.Fatalf("pick files: %v", err)
	}
	if _, err := pollAs[bool](pg, `(window.ossupPicked || 0) >= `+strconv.Itoa(before+len(paths)), 10*time.Second); err != nil {
		t.Fatalf("the picked files were not dropped on the widget: %v", err)
	}
}

// TestWidgetFolder: a folder picked through the widget's folder picker
// (webkitdirectory; Chromium only, see below) and one dropped on it (walked through webkitGetAsEntry)
// upload with their relative paths in the keys, grouped by folder in the
// list. Two equal files (same name, size and time) in two folders are two
// uploads. Every object is read back byte for byte.
func TestWidgetFolder(t *testing.T) {
	inEngines(t, browser.Engines, testWidgetFolder)
}

func testWidgetFolder(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(1 << 20)})
	pg := openWidget(t, e, base, "")
	root := filepath.Join(t.TempDir(), "album")
	want := map[string][]byte{}
	stamp := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for rel, n := range map[string]int{"a.txt": 10, "sub/a.txt": 10, "sub/b.bin": 1<<20 + 77, "sub/deeper/夏 天.txt": 3} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		_, b := writeFile(t, filepath.Dir(p), filepath.Base(p), n)
		if err := os.Chtimes(p, stamp, stamp); err != nil {
			t.Fatal(err)
		}
		want["album/"+rel] = b
	}
	// Only Chromium's automation picks a folder: Firefox's BiDi
	// input.setFiles refuses a directory (NS_ERROR_FILE_IS_DIRECTORY), and
	// WebKit's WebDriver reaches no input inside a shadow root. There only
	// the drop is tested.
	groups := 0
	if e == browser.Chromium {
		pickWidget(pg, t, "input.folder", root)
		if _, err := pollAs[bool](pg, `!!(window.ossupWidget.errors.length || window.ossupWidget.results.length >= 4)`, 2*time.Minute); err != nil {
			t.Fatalf("the folder did not upload: %v; the widget shows %+v", err, viewWidget(pg, t).Rows)
		}
		checkFolder(pg, t, srv, want)
		if v := viewWidget(pg, t); len(v.Groups) != 1 || v.Groups[0] != "Folder album: 4 files" {
			t.Errorf("groups %q, want one for album", v.Groups)
		}
		groups = 1
	}

	// A drop of a folder and a file. A test cannot make the browser's
	// own drag data, so the drop event carries entries of the
	// FileSystemEntry API over real Files; the directory reader answers
	// in batches, as Chromium's does (100 at a time), until an empty one.
	dropped := map[string][]byte{}
	for _, p := range []string{"trip/day1/x.txt", "trip/day1/y.txt", "trip/z.txt", "loose.txt"} {
		dropped[p] = []byte(strings.Repeat(p+";", 500))
	}
	_, err := evalAs[bool](pg, `(() => {
	  const file = (path) => new File([path.split('/').pop() === '' ? '' : (path + ';').repeat(500)], path.split('/').pop(), { type: 'text/plain' });
	  const fileEntry = (path) => ({ isFile: true, isDirectory: false, name: path.split('/').pop(), file: (ok) => ok(file(path)) });
	  const dirEntry = (name, children) => ({ isFile: false, isDirectory: true, name, createReader: () => {
	    const batches = [children.slice(0, 1), children.slice(1), []];
	    return { readEntries: (ok) => setTimeout(() => ok(batches.shift() || []), 0) };
	  } });
	  const trip = dirEntry('trip', [dirEntry('day1', [fileEntry('trip/day1/x.txt'), fileEntry('trip/day1/y.txt')]), fileEntry('trip/z.txt')]);
	  const items = [
	    { kind: 'file', webkitGetAsEntry: () => trip, getAsFile: () => null },
	    { kind: 'file', webkitGetAsEntry: () => fileEntry('loose.txt'), getAsFile: () => file('loose.txt') },
	  ];
	  const ev = new Event('drop', { bubbles: true, cancelable: true });
	  Object.defineProperty(ev, 'dataTransfer', { value: { items } });
	  document.querySelector('ossup-uploader').shadowRoot.querySelector('[part~=dropzone]').dispatchEvent(ev);
	  return true;
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `!!(window.ossupWidget.errors.length || window.ossupWidget.results.length >= `+strconv.Itoa(4*groups+4)+`)`, 2*time.Minute); err != nil {
		t.Fatalf("the dropped folder did not upload: %v; the widget shows %+v", err, viewWidget(pg, t).Rows)
	}
	checkFolder(pg, t, srv, dropped)
	if v := viewWidget(pg, t); len(v.Groups) != groups+1 || v.Groups[groups] != "Folder trip: 3 files" {
		t.Errorf("groups %q, want album (not in WebKit) then trip", v.Groups)
	}
}

// checkFolder checks that each wanted path uploaded under a key ending
// with it, byte for byte.
func checkFolder(pg *tab, t testing.TB, srv *server.Server, want map[string][]byte) {
	t.Helper()
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupWidget.errors)`)
	if err != nil || raw != "[]" {
		t.Fatalf("errors: %s %v", raw, err)
	}
	rs := widgetResults(pg, t)
	seen := map[string]bool{}
	for _, r := range rs {
		path := r.Path
		if path == "" {
			path = r.Name
		}
		b, ok := want[path]
		if !ok {
			continue
		}
		r.Path = path
		seen[r.Path] = true
		if !strings.HasSuffix(r.Key, "/"+r.Path) {
			t.Errorf("%s uploaded as %s, want its relative path in the key", r.Path, r.Key)
		}
		if got := readBack(t, srv, r.Key); !bytes.Equal(got, b) {
			t.Errorf("%s: stored %d bytes differ from the %d sent", r.Path, len(got), len(b))
		}
	}
	if len(seen) != len(want) {
		t.Errorf("uploaded %v, want every one of %d paths; results %+v", seen, len(want), rs)
	}
}
