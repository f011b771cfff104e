package localcloud

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// sdkMinPart is OSS's smallest allowed non-last part.
const sdkMinPart = 100 << 10

// upload is one multipart upload driven with the SDK's low-level calls.
type sdkUpload struct {
	t   testing.TB
	c   *oss.Client
	key string
	id  string
}

func sdkInitiate(t testing.TB, c *oss.Client, key string) *sdkUpload {
	t.Helper()
	res, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("Initiate %q: %v", key, err)
	}
	if oss.ToString(res.Key) != key || oss.ToString(res.Bucket) != DevBucket || oss.ToString(res.UploadId) == "" {
		t.Fatalf("Initiate result: bucket %q key %q id %q", oss.ToString(res.Bucket), oss.ToString(res.Key), oss.ToString(res.UploadId))
	}
	return &sdkUpload{t: t, c: c, key: key, id: *res.UploadId}
}

func (u *sdkUpload) part(n int32, data []byte) (*oss.UploadPartResult, error) {
	return u.c.UploadPart(sdkCtx, &oss.UploadPartRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), PartNumber: n, Body: bytes.NewReader(data),
	})
}

// mustPart uploads a part and checks the ETag and CRC64 OSS reports for it.
func (u *sdkUpload) mustPart(n int32, data []byte) oss.UploadPart {
	u.t.Helper()
	res, err := u.part(n, data)
	if err != nil {
		u.t.Fatalf("UploadPart %d: %v", n, err)
	}
	if oss.ToString(res.ETag) != quotedMD5(data) || oss.ToString(res.HashCRC64) != crcDecimal(data) {
		u.t.Fatalf("UploadPart %d: ETag %s CRC %s, want %s %s", n, oss.ToString(res.ETag), oss.ToString(res.HashCRC64), quotedMD5(data), crcDecimal(data))
	}
	return oss.UploadPart{PartNumber: n, ETag: res.ETag}
}

func (u *sdkUpload) complete(parts ...oss.UploadPart) (*oss.CompleteMultipartUploadResult, error) {
	return u.c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id),
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
	})
}

func (u *sdkUpload) listParts(marker, max int32) (*oss.ListPartsResult, error) {
	return u.c.ListParts(sdkCtx, &oss.ListPartsRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), PartNumberMarker: marker, MaxParts: max,
	})
}

func (u *sdkUpload) abort() error {
	_, err := u.c.AbortMultipartUpload(sdkCtx, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id)})
	return err
}

func listedNumbers(parts []oss.Part) []int32 {
	var out []int32
	for _, p := range parts {
		out = append(out, p.PartNumber)
	}
	return out
}

func TestSDKMultipartLowLevel(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			key := "multipart/" + v.name + "/ünï code+%?#.bin"
			init, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{
				Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), ContentType: oss.Ptr("video/x-test"),
				Metadata: map[string]string{"origin": "multipart"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if oss.ToString(init.Key) != key || oss.ToString(init.EncodingType) != "url" {
				t.Fatalf("Initiate decoded key %q encoding %q", oss.ToString(init.Key), oss.ToString(init.EncodingType))
			}
			u := &sdkUpload{t: t, c: c, key: key, id: *init.UploadId}
			p1, p3, p5 := randomBytes(sdkMinPart, 1), randomBytes(sdkMinPart+1, 3), randomBytes(777, 5)
			u.mustPart(1, p1)
			u.mustPart(3, randomBytes(sdkMinPart, 99)) // replaced below: re-upload overwrites
			u.mustPart(5, p5)
			u.mustPart(3, p3)
			// A part never listed in Complete is left out of the object.
			u.mustPart(4, randomBytes(sdkMinPart, 4))

			page, err := u.listParts(0, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := listedNumbers(page.Parts); !page.IsTruncated || page.NextPartNumberMarker != 3 || page.MaxParts != 2 || fmt.Sprint(got) != "[1 3]" {
				t.Fatalf("ListParts page 1: parts %v truncated %v next %d max %d", got, page.IsTruncated, page.NextPartNumberMarker, page.MaxParts)
			}
			if oss.ToString(page.Key) != key || oss.ToString(page.UploadId) != u.id {
				t.Errorf("ListParts key %q upload %q", oss.ToString(page.Key), oss.ToString(page.UploadId))
			}
			p := page.Parts[1]
			if p.Size != int64(len(p3)) || oss.ToString(p.ETag) != quotedMD5(p3) || oss.ToString(p.HashCRC64) != crcDecimal(p3) || p.LastModified == nil {
				t.Errorf("ListParts part 3: size %d etag %s crc %s", p.Size, oss.ToString(p.ETag), oss.ToString(p.HashCRC64))
			}
			page, err = u.listParts(3, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := listedNumbers(page.Parts); page.IsTruncated || page.PartNumberMarker != 3 || fmt.Sprint(got) != "[4 5]" {
				t.Fatalf("ListParts page 2: parts %v truncated %v marker %d", got, page.IsTruncated, page.PartNumberMarker)
			}

			// The SDK paginator, one part a page.
			pager := c.NewListPartsPaginator(&oss.ListPartsRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: oss.Ptr(u.id)},
				func(o *oss.PaginatorOptions) { o.Limit = 1 })
			var all []int32
			pages := 0
			for pager.HasNext() {
				pg, err := pager.NextPage(sdkCtx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				all = append(all, listedNumbers(pg.Parts)...)
			}
			if fmt.Sprint(all) != "[1 3 4 5]" || pages != 4 {
				t.Fatalf("paginator: parts %v in %d pages", all, pages)
			}

			res, err := u.complete(
				oss.UploadPart{PartNumber: 1, ETag: oss.Ptr(quotedMD5(p1))},
				oss.UploadPart{PartNumber: 3, ETag: oss.Ptr(quotedMD5(p3))},
				oss.UploadPart{PartNumber: 5, ETag: oss.Ptr(quotedMD5(p5))},
			)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Join([][]byte{p1, p3, p5}, nil)
			if oss.ToString(res.HashCRC64) != crcDecimal(want) || oss.ToString(res.Key) != key || oss.ToString(res.Bucket) != DevBucket || oss.ToString(res.ETag) == "" {
				t.Fatalf("Complete: crc %s (want %s) key %q bucket %q etag %q", oss.ToString(res.HashCRC64), crcDecimal(want), oss.ToString(res.Key), oss.ToString(res.Bucket), oss.ToString(res.ETag))
			}
			// ali-oss takes the ETag from the header; Location is the object's URL.
			if res.Headers.Get("ETag") != oss.ToString(res.ETag) {
				t.Errorf("Complete: ETag header %q, XML %q", res.Headers.Get("ETag"), oss.ToString(res.ETag))
			}
			if loc, err := url.Parse(oss.ToString(res.Location)); err != nil || loc.Path != "/"+DevBucket+"/"+key || "http://"+loc.Host != cl.OSSEndpoint {
				t.Errorf("Complete: Location %q", oss.ToString(res.Location))
			}
			got, gres := readObject(t, c, DevBucket, key)
			mustEqual(t, "completed object", got, want)
			if oss.ToString(gres.ObjectType) != "Multipart" || oss.ToString(gres.HashCRC64) != crcDecimal(want) ||
				oss.ToString(gres.ContentType) != "video/x-test" || gres.Metadata["origin"] != "multipart" || oss.ToString(gres.ETag) != oss.ToString(res.ETag) {
				t.Errorf("GetObject: type %q crc %q content-type %q meta %v etag %q", oss.ToString(gres.ObjectType), oss.ToString(gres.HashCRC64),
					oss.ToString(gres.ContentType), gres.Metadata, oss.ToString(gres.ETag))
			}

			// The upload is gone once completed.
			_, err = u.listParts(0, 0)
			serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
			_, err = u.part(6, []byte("late"))
			serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
			serviceError(t, u.abort(), http.StatusNotFound, "NoSuchUpload")
			_, err = u.complete(oss.UploadPart{PartNumber: 1, ETag: oss.Ptr(quotedMD5(p1))})
			serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
		})
	}
}

func TestSDKMultipartAbort(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	u := sdkInitiate(t, c, "abort/me")
	part := u.mustPart(1, randomBytes(1000, 1))
	if err := u.abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	_, err := u.listParts(0, 0)
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	_, err = u.complete(part)
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	serviceError(t, u.abort(), http.StatusNotFound, "NoSuchUpload")
	_, err = c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("abort/me")})
	serviceError(t, err, http.StatusNotFound, "NoSuchKey")
	// An upload id belongs to its key.
	other := sdkInitiate(t, c, "abort/other")
	p := other.mustPart(1, []byte("other"))
	wrongKey := &sdkUpload{t: t, c: c, key: "abort/elsewhere", id: other.id}
	_, err = wrongKey.part(2, []byte("x"))
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	_, err = wrongKey.listParts(0, 0)
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	_, err = wrongKey.complete(p)
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	serviceError(t, wrongKey.abort(), http.StatusNotFound, "NoSuchUpload")
	if _, err := other.complete(p); err != nil {
		t.Fatalf("the upload was damaged by calls under another key: %v", err)
	}
	// An upload id that never existed.
	bogus := &sdkUpload{t: t, c: c, key: "abort/me", id: "0123456789ABCDEF0123456789ABCDEF"}
	_, err = bogus.part(1, []byte("x"))
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
}

func TestSDKMultipartCompleteErrors(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	u := sdkInitiate(t, c, "errors/obj")
	small := randomBytes(sdkMinPart-1, 1)
	full := randomBytes(sdkMinPart, 2)
	last := randomBytes(10, 3)
	p1 := u.mustPart(1, full)
	p2 := u.mustPart(2, small)
	p3 := u.mustPart(3, last)

	for _, tc := range []struct {
		name   string
		parts  []oss.UploadPart
		status int
		code   string
	}{
		{"wrong etag", []oss.UploadPart{p1, {PartNumber: 3, ETag: oss.Ptr(quotedMD5([]byte("nope")))}}, 400, "InvalidPart"},
		{"missing part", []oss.UploadPart{p1, {PartNumber: 7, ETag: p3.ETag}}, 400, "InvalidPart"},
		// The SDK sorts the list, so duplicates stay out of order.
		{"duplicate", []oss.UploadPart{p1, p1, p3}, 400, "InvalidPartOrder"},
		{"small non-last part", []oss.UploadPart{p1, p2, p3}, 400, "EntityTooSmall"},
	} {
		_, err := u.complete(tc.parts...)
		serviceError(t, err, tc.status, tc.code)
	}

	// A descending list, which the SDK would sort, sent by hand.
	body := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`,
		*p3.ETag, *p1.ETag)
	resp := sdkRaw{method: http.MethodPost, bucket: DevBucket, key: u.key, query: url.Values{"uploadId": {u.id}}, body: []byte(body)}.send(t, cl)
	sdkReadError(t, resp, http.StatusBadRequest, "InvalidPartOrder")

	// Part numbers out of range, on UploadPart.
	_, err := u.part(10001, []byte("x"))
	se := serviceError(t, err, http.StatusBadRequest, "InvalidArgument")
	if se.Message == "" {
		t.Error("InvalidArgument without a message")
	}
	resp = sdkRaw{method: http.MethodPut, bucket: DevBucket, key: u.key, query: url.Values{"uploadId": {u.id}, "partNumber": {"0"}}, body: []byte("x")}.send(t, cl)
	doc := sdkReadError(t, resp, http.StatusBadRequest, "InvalidArgument")
	if doc.get("ArgumentName") != "partNumber" || doc.get("ArgumentValue") != "0" {
		t.Errorf("partNumber 0: ArgumentName %q ArgumentValue %q", doc.get("ArgumentName"), doc.get("ArgumentValue"))
	}

	// The upload survives every refused Complete.
	res, err := u.complete(p1, p3)
	if err != nil {
		t.Fatalf("Complete after refusals: %v", err)
	}
	if want := append(append([]byte(nil), full...), last...); oss.ToString(res.HashCRC64) != crcDecimal(want) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(want))
	}
}

func TestSDKMultipartCompleteAll(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	u := sdkInitiate(t, c, "all/obj")
	parts := map[int32][]byte{2: randomBytes(sdkMinPart, 2), 9: randomBytes(sdkMinPart+5, 9), 40: randomBytes(300, 40)}
	for _, n := range []int32{40, 2, 9} {
		u.mustPart(n, parts[n])
	}
	want := bytes.Join([][]byte{parts[2], parts[9], parts[40]}, nil)

	// A part list together with complete-all is refused.
	_, err := c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), CompleteAll: oss.Ptr("yes"),
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: []oss.UploadPart{{PartNumber: 2, ETag: oss.Ptr(quotedMD5(parts[2]))}}},
	})
	se := serviceError(t, err, http.StatusBadRequest, "InvalidArgument")
	if se.EC != "0042-00000216" {
		t.Errorf("EC %q, want 0042-00000216", se.EC)
	}

	res, err := c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), CompleteAll: oss.Ptr("yes"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if oss.ToString(res.HashCRC64) != crcDecimal(want) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(want))
	}
	// The combined CRC the SDK's Uploader would compute from the listed parts.
	crc := uint64(0)
	for _, n := range []int32{2, 9, 40} {
		crc = oss.CRC64Combine(crc, crcOf(parts[n]), uint64(len(parts[n])))
	}
	if crcDecimal(want) != fmt.Sprint(crc) {
		t.Fatalf("CRC64Combine %d disagrees with the direct CRC %s", crc, crcDecimal(want))
	}
	got, _ := readObject(t, c, DevBucket, u.key)
	mustEqual(t, "complete-all object", got, want)
}

func TestSDKListMultipartUploads(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	keys := []string{"lmu/a", "lmu/a", "lmu/b/c", "lmu/b/d", "lmu/sp ünï+%?#&=", "lmu/z", "other/x"}
	ids := map[string][]string{}
	for _, k := range keys {
		u := sdkInitiate(t, c, k)
		ids[k] = append(ids[k], u.id)
	}

	type entry struct{ key, id string }
	var want []entry
	for _, k := range []string{"lmu/a", "lmu/b/c", "lmu/b/d", "lmu/sp ünï+%?#&=", "lmu/z"} {
		list := append([]string(nil), ids[k]...)
		sort.Strings(list)
		if k == "lmu/a" {
			// Two uploads of one key: both listed, each once.
			for _, id := range list {
				want = append(want, entry{k, id})
			}
			continue
		}
		want = append(want, entry{k, list[0]})
	}

	// The SDK paginator (which always asks for encoding-type=url), two a page.
	pager := c.NewListMultipartUploadsPaginator(&oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("lmu/")},
		func(o *oss.PaginatorOptions) { o.Limit = 2 })
	var got []entry
	pages := 0
	for pager.HasNext() {
		pg, err := pager.NextPage(sdkCtx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if oss.ToString(pg.Prefix) != "lmu/" || pg.MaxUploads != 2 {
			t.Errorf("page %d: prefix %q max %d", pages, oss.ToString(pg.Prefix), pg.MaxUploads)
		}
		for _, up := range pg.Uploads {
			got = append(got, entry{oss.ToString(up.Key), oss.ToString(up.UploadId)})
			if up.Initiated == nil {
				t.Errorf("upload %s without Initiated", oss.ToString(up.UploadId))
			}
		}
	}
	sortEntries := func(es []entry) {
		sort.Slice(es, func(i, j int) bool {
			if es[i].key != es[j].key {
				return es[i].key < es[j].key
			}
			return es[i].id < es[j].id
		})
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].key < got[j].key }) {
		t.Errorf("uploads not in key order: %v", got)
	}
	sortEntries(got)
	sortEntries(want)
	if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
		t.Fatalf("paginated uploads in %d pages:\n got %v\nwant %v", pages, got, want)
	}

	// Manual paging with key-marker and upload-id-marker, without encoding.
	first, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("lmu/"), MaxUploads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !first.IsTruncated || len(first.Uploads) != 1 || oss.ToString(first.NextKeyMarker) != "lmu/a" || oss.ToString(first.NextUploadIdMarker) != oss.ToString(first.Uploads[0].UploadId) {
		t.Fatalf("first page: truncated %v uploads %d next %q/%q", first.IsTruncated, len(first.Uploads), oss.ToString(first.NextKeyMarker), oss.ToString(first.NextUploadIdMarker))
	}
	second, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("lmu/"), MaxUploads: 1,
		KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Uploads) != 1 || oss.ToString(second.Uploads[0].Key) != "lmu/a" || *second.Uploads[0].UploadId == *first.Uploads[0].UploadId ||
		oss.ToString(second.KeyMarker) != "lmu/a" || oss.ToString(second.UploadIdMarker) != *first.Uploads[0].UploadId {
		t.Fatalf("second page: %+v", second)
	}
	// A key-marker alone skips every upload of that key.
	rest, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("lmu/"), KeyMarker: oss.Ptr("lmu/b/c")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Uploads) != 3 || oss.ToString(rest.Uploads[0].Key) != "lmu/b/d" || rest.IsTruncated {
		t.Fatalf("after key-marker lmu/b/c: %d uploads, first %q", len(rest.Uploads), oss.ToString(rest.Uploads[0].Key))
	}

	// Delimiter: the SDK result has no CommonPrefixes, so read the XML.
	resp := sdkRaw{method: http.MethodGet, bucket: DevBucket, query: url.Values{
		"uploads": {""}, "prefix": {"lmu/"}, "delimiter": {"/"}, "encoding-type": {"url"},
	}}.send(t, cl)
	var doc struct {
		EncodingType string   `xml:"EncodingType"`
		Delimiter    string   `xml:"Delimiter"`
		Keys         []string `xml:"Upload>Key"`
		Prefixes     []string `xml:"CommonPrefixes>Prefix"`
	}
	if err := xml.Unmarshal(drainOK(t, resp, http.StatusOK), &doc); err != nil {
		t.Fatal(err)
	}
	var decoded []string
	for _, k := range doc.Keys {
		// OSS encodes a space as %20, never '+', so strict decoders work.
		d, err := url.PathUnescape(k)
		if err != nil {
			t.Fatalf("key %q is not URL-encoded: %v", k, err)
		}
		decoded = append(decoded, d)
	}
	if doc.EncodingType != "url" || doc.Delimiter != "%2F" || fmt.Sprint(decoded) != fmt.Sprint([]string{"lmu/a", "lmu/a", "lmu/sp ünï+%?#&=", "lmu/z"}) ||
		fmt.Sprint(doc.Prefixes) != "[lmu%2Fb%2F]" {
		t.Fatalf("delimiter listing: %+v (keys %q)", doc, decoded)
	}
}
