package codec_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/breachflow/breachflow/internal/codec"
)

// key returns a deterministic 32-byte test key.
func key(b byte) []byte { return bytes.Repeat([]byte{b}, codec.KeySize) }

// ring returns Keys with current first and all ids, keyed by their first byte.
func ring(current string, ids ...string) codec.Keys {
	k := codec.Keys{Current: current, ByID: map[string][]byte{}}
	for _, id := range append([]string{current}, ids...) {
		k.ByID[id] = key(id[len(id)-1])
	}
	return k
}

func mustDC(t *testing.T, keys codec.Keys) converter.DataConverter {
	t.Helper()
	dc, err := codec.DataConverter(keys)
	if err != nil {
		t.Fatalf("DataConverter: %v", err)
	}
	return dc
}

// person is a payload shaped like the personal data breachflow carries.
type person struct {
	Name   string
	Email  string
	Phone  string
	Labels []string
	Nested *person
}

const (
	email = "taro.yamada@example.com"
	name  = "山田太郎"
)

func TestDataConverterRoundTripsEveryPayloadKind(t *testing.T) {
	dc := mustDC(t, ring("k2026a"))
	cases := []struct {
		name  string
		value any
		into  func() any // a pointer to decode into
	}{
		{"string", "通知先: " + name + " <" + email + ">", func() any { return new(string) }},
		{"empty string", "", func() any { return new(string) }},
		{"struct", person{Name: name, Email: email, Phone: "+81 90-1234-5678", Labels: []string{"a", "b"}, Nested: &person{Name: "child"}}, func() any { return new(person) }},
		{"pointer to struct", &person{Name: name}, func() any { return new(*person) }},
		{"nil", nil, func() any { return new(*person) }},
		{"bytes", []byte{0, 1, 2, 0xff}, func() any { return new([]byte) }},
		{"int", 42, func() any { return new(int) }},
		{"map", map[string]int{"R00001": 1, "R00002": 2}, func() any { return new(map[string]int) }},
		{"slice", []string{email, name}, func() any { return new([]string) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := dc.ToPayload(tc.value)
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			if got := string(p.Metadata[converter.MetadataEncoding]); got != codec.MetadataEncodingEncrypted {
				t.Errorf("encoding = %q, want %q", got, codec.MetadataEncodingEncrypted)
			}
			if got := string(p.Metadata[codec.MetadataKeyID]); got != "k2026a" {
				t.Errorf("key ID = %q, want k2026a", got)
			}
			if len(p.Metadata) != 2 {
				t.Errorf("metadata = %v, want only encoding and key ID in clear", p.Metadata)
			}
			ptr := tc.into()
			if err := dc.FromPayload(p, ptr); err != nil {
				t.Fatalf("FromPayload: %v", err)
			}
			got := reflect.ValueOf(ptr).Elem().Interface()
			want := tc.value
			if want == nil {
				want = (*person)(nil)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip = %#v, want %#v", got, want)
			}
		})
	}
}

func TestDataConverterRoundTripsMultiplePayloads(t *testing.T) {
	dc := mustDC(t, ring("k2026a"))
	in := person{Name: name, Email: email}
	ps, err := dc.ToPayloads("INC-20261121-ABC234", in, nil, 7)
	if err != nil {
		t.Fatalf("ToPayloads: %v", err)
	}
	if len(ps.Payloads) != 4 {
		t.Fatalf("%d payloads, want 4", len(ps.Payloads))
	}
	for i, p := range ps.Payloads {
		if got := string(p.Metadata[converter.MetadataEncoding]); got != codec.MetadataEncodingEncrypted {
			t.Errorf("payload %d encoding = %q, want encrypted", i, got)
		}
	}
	var (
		id   string
		out  person
		none *person
		n    int
	)
	if err := dc.FromPayloads(ps, &id, &out, &none, &n); err != nil {
		t.Fatalf("FromPayloads: %v", err)
	}
	if id != "INC-20261121-ABC234" || !reflect.DeepEqual(out, in) || none != nil || n != 7 {
		t.Errorf("FromPayloads = %q, %+v, %v, %d", id, out, none, n)
	}
}

func TestCiphertextHidesPlaintextAndDiffersEveryTime(t *testing.T) {
	dc := mustDC(t, ring("k2026a"))
	value := person{Name: name, Email: email}
	first, err := dc.ToPayload(value)
	if err != nil {
		t.Fatal(err)
	}
	second, err := dc.ToPayload(value)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*commonpb.Payload{first, second} {
		stored, err := proto.Marshal(p) // what Temporal stores
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{email, name, "json/plain", "Email"} {
			if bytes.Contains(stored, []byte(secret)) {
				t.Errorf("stored payload contains %q in clear", secret)
			}
		}
	}
	if bytes.Equal(first.Data[:12], second.Data[:12]) {
		t.Error("two encodings share a nonce")
	}
	if bytes.Equal(first.Data, second.Data) {
		t.Error("two encodings of the same value are identical")
	}
}

func TestKeyRotation(t *testing.T) {
	old := ring("k2026a")
	oldDC := mustDC(t, old)
	before, err := oldDC.ToPayload(person{Email: email})
	if err != nil {
		t.Fatal(err)
	}

	// Rotate: a new current key, the old one kept for decryption.
	rotated := ring("k2026b", "k2026a")
	newDC := mustDC(t, rotated)
	if c, err := codec.NewCodec(rotated); err != nil || c.CurrentKeyID() != "k2026b" {
		t.Fatalf("rotated codec: err %v; want current key k2026b", err)
	}

	var got person
	if err := newDC.FromPayload(before, &got); err != nil || got.Email != email {
		t.Fatalf("old payload after rotation: %+v, %v", got, err)
	}
	after, err := newDC.ToPayload(person{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	if id := string(after.Metadata[codec.MetadataKeyID]); id != "k2026b" {
		t.Errorf("new payload key ID = %q, want k2026b", id)
	}
	// A process that was not given the new key cannot read new payloads,
	// and says which key it lacks.
	err = oldDC.FromPayload(after, &got)
	if err == nil || !strings.Contains(err.Error(), `unknown encryption key ID "k2026b"`) {
		t.Errorf("old ring on new payload: %v, want unknown key ID k2026b", err)
	}
	// Once the old key is retired, payloads still encrypted with it fail
	// clearly instead of decoding to garbage.
	retired := mustDC(t, ring("k2026b"))
	err = retired.FromPayload(before, &got)
	if err == nil || !strings.Contains(err.Error(), `unknown encryption key ID "k2026a"`) {
		t.Errorf("retired key: %v, want unknown key ID k2026a", err)
	}
}

func TestDecodeRefusesBadCiphertext(t *testing.T) {
	keys := ring("k2026a", "k2026z")
	keys.ByID["k2026a-alias"] = keys.ByID["k2026a"] // same key under another ID
	c, err := codec.NewCodec(keys)
	if err != nil {
		t.Fatal(err)
	}
	encrypt := func(t *testing.T) *commonpb.Payload {
		t.Helper()
		plain, err := converter.GetDefaultDataConverter().ToPayload(email)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encode([]*commonpb.Payload{plain})
		if err != nil {
			t.Fatal(err)
		}
		return enc[0]
	}
	cases := []struct {
		name   string
		mutate func(p *commonpb.Payload)
		want   string
	}{
		{"flipped nonce bit", func(p *commonpb.Payload) { p.Data[0] ^= 1 }, "message authentication failed"},
		{"flipped ciphertext bit", func(p *commonpb.Payload) { p.Data[14] ^= 0x80 }, "message authentication failed"},
		{"flipped tag bit", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 }, "message authentication failed"},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] }, "message authentication failed"},
		{"appended byte", func(p *commonpb.Payload) { p.Data = append(p.Data, 0) }, "message authentication failed"},
		{"shorter than nonce and tag", func(p *commonpb.Payload) { p.Data = p.Data[:20] }, "ciphertext too short"},
		{"empty data", func(p *commonpb.Payload) { p.Data = nil }, "ciphertext too short"},
		{"relabelled to another configured key", func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("k2026z") }, `with key "k2026z": cipher: message authentication failed`},
		{"relabelled to another ID of the same key", func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("k2026a-alias") }, `with key "k2026a-alias": cipher: message authentication failed`},
		{"unknown key ID", func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("k1999") }, `unknown encryption key ID "k1999"`},
		{"no key ID", func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataKeyID) }, "no encryption-key-id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := encrypt(t)
			tc.mutate(p)
			_, err := c.Decode([]*commonpb.Payload{p})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestDecodePassesThroughPayloadsWithoutOurEncoding(t *testing.T) {
	c, err := codec.NewCodec(ring("k2026a"))
	if err != nil {
		t.Fatal(err)
	}
	plainDC := converter.GetDefaultDataConverter()
	var in []*commonpb.Payload
	for _, v := range []any{"written before encryption", nil, []byte{1, 2}, person{Name: name}} {
		p, err := plainDC.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, p)
	}
	in = append(in, &commonpb.Payload{}) // no metadata at all
	out, err := c.Decode(in)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i := range in {
		if !proto.Equal(out[i], in[i]) {
			t.Errorf("payload %d changed: %v -> %v", i, in[i], out[i])
		}
	}
	// And through the data converter: an old history still reads.
	var got string
	if err := mustDC(t, ring("k2026a")).FromPayload(in[0], &got); err != nil || got != "written before encryption" {
		t.Errorf("FromPayload of a plain payload = %q, %v", got, err)
	}
}

func TestFailureConverterEncryptsMessageAndStackTrace(t *testing.T) {
	dc := mustDC(t, ring("k2026a"))
	fc := codec.FailureConverter(dc)
	cause := errors.New("mailbox " + email + " (" + name + ") rejected the message")
	f := fc.ErrorToFailure(temporal.NewApplicationErrorWithCause("send deletion request", "SendFailed", cause, person{Email: email}))

	stored, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{email, name} {
		if bytes.Contains(stored, []byte(secret)) {
			t.Errorf("stored failure contains %q in clear", secret)
		}
	}
	for g := f; g != nil; g = g.GetCause() {
		if g.GetMessage() != "Encoded failure" || g.GetStackTrace() != "" {
			t.Errorf("failure in clear: message %q, stack trace %q", g.GetMessage(), g.GetStackTrace())
		}
		if enc := string(g.GetEncodedAttributes().GetMetadata()[converter.MetadataEncoding]); enc != codec.MetadataEncodingEncrypted {
			t.Errorf("encoded attributes encoding = %q, want encrypted", enc)
		}
	}

	back := fc.FailureToError(f)
	var messages []string
	for e := back; e != nil; e = errors.Unwrap(e) {
		messages = append(messages, e.Error())
	}
	if !strings.Contains(strings.Join(messages, "\n"), email) {
		t.Errorf("decoded failure chain %q lost the cause's message", messages)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(back, &appErr) || appErr.Type() != "SendFailed" {
		t.Errorf("decoded failure %T %v, want ApplicationError SendFailed", back, back)
	}
}

func TestClientOptionsSetsBothConverters(t *testing.T) {
	var opts client.Options
	if err := codec.ClientOptions(&opts, ring("k2026a")); err != nil {
		t.Fatalf("ClientOptions: %v", err)
	}
	p, err := opts.DataConverter.ToPayload(email)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[converter.MetadataEncoding]) != codec.MetadataEncodingEncrypted {
		t.Errorf("client data converter does not encrypt: %v", p.Metadata)
	}
	f := opts.FailureConverter.ErrorToFailure(errors.New(email))
	if f.GetMessage() != "Encoded failure" {
		t.Errorf("client failure converter leaves the message in clear: %q", f.GetMessage())
	}

	var bad client.Options
	if err := codec.ClientOptions(&bad, codec.Keys{}); err == nil {
		t.Error("ClientOptions with no keys succeeded")
	}
	if bad.DataConverter != nil || bad.FailureConverter != nil {
		t.Error("ClientOptions with no keys changed the options")
	}
}

func TestNewCodecValidatesKeys(t *testing.T) {
	cases := []struct {
		name string
		keys codec.Keys
		want string
	}{
		{"no keys", codec.Keys{}, "no payload encryption keys"},
		{"no current", codec.Keys{ByID: map[string][]byte{"k1": key(1)}}, "no current key ID"},
		{"current missing", codec.Keys{Current: "k2", ByID: map[string][]byte{"k1": key(1)}}, `current key ID "k2" is not among`},
		{"short key", codec.Keys{Current: "k1", ByID: map[string][]byte{"k1": key(1)[:16]}}, `key "k1" is 16 bytes, want 32`},
		{"bad ID", codec.Keys{Current: "k 1", ByID: map[string][]byte{"k 1": key(1)}}, "a key ID is malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.NewCodec(tc.keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewCodec = %v, want error containing %q", err, tc.want)
			}
		})
	}
}
