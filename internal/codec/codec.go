// Package codec encrypts everything breachflow hands to Temporal. breachflow
// holds exactly the personal data that leaked; the Temporal server, its
// database, its backups and its UI must not become the second leak.
//
// Codec is an AES-256-GCM converter.PayloadCodec: every payload (workflow
// and activity inputs and results, signals, updates, queries, memos, user
// metadata such as summaries, and, through FailureConverter, failure
// messages and stack traces) is proto-marshalled whole, metadata included,
// and sealed with a random 12-byte nonce under the current key of a Keys
// ring. The sealed payload carries only "encoding: binary/encrypted" and
// "encryption-key-id" in clear. Decoding uses whichever configured key the
// payload names, so keys can be rotated; payloads without our encoding pass
// through unchanged, so histories written before encryption still read.
//
// Workflow IDs, search attributes, task queues and type names are never
// encoded by any codec: they must never hold personal data.
//
// Handler serves the same codec over HTTP for the Temporal UI and CLI (a
// "codec server").
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written by Encode.
const (
	// MetadataEncodingEncrypted is the value of the "encoding" metadata
	// key of an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the key that encrypted it.
	MetadataKeyID = "encryption-key-id"
)

// nonceSize is GCM's standard nonce size; random nonces of this size are
// safe for far more payloads than one key will ever encrypt (NIST SP
// 800-38D's 2^32 invocation limit).
const nonceSize = 12

// aadPrefix is bound into every ciphertext together with the key ID, so
// that a payload relabelled with another key ID fails authentication
// rather than being tried under the wrong key.
const aadPrefix = "breachflow/codec/v1:"

// Codec encrypts and decrypts payloads; see the package documentation.
// It is safe for concurrent use.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
	ids     []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// NewCodec returns a Codec over a validated copy of keys.
func NewCodec(keys Keys) (*Codec, error) {
	if err := keys.Validate(); err != nil {
		return nil, fmt.Errorf("payload codec: %w", err)
	}
	c := &Codec{current: keys.Current, aeads: make(map[string]cipher.AEAD, len(keys.ByID)), ids: keys.IDs()}
	for id, key := range keys.ByID {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCMWithNonceSize(block, nonceSize)
		if err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", id, err)
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// CurrentKeyID returns the ID of the key that Encode uses.
func (c *Codec) CurrentKeyID() string { return c.current }

// String names the keys, never their material.
func (c *Codec) String() string {
	return fmt.Sprintf("codec.Codec{Current: %q, IDs: %q}", c.current, c.ids)
}

// Encode encrypts every payload with the current key. The result's Data is
// nonce || AES-GCM(proto(payload)).
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload %d: marshal: %w", i, err)
		}
		sealed := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(sealed); err != nil {
			return nil, fmt.Errorf("encrypt payload %d: nonce: %w", i, err)
		}
		sealed = aead.Seal(sealed, sealed[:nonceSize], plain, aad(c.current))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts every payload encoded by Encode, with the key its
// metadata names, and returns any other payload unchanged. A payload naming
// a key that is not configured, or whose ciphertext fails authentication
// (tampered, truncated, or relabelled), is an error naming the payload's
// index and key ID.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		rawID, ok := p.GetMetadata()[MetadataKeyID]
		if !ok {
			return nil, fmt.Errorf("decrypt payload %d: no %s in its metadata", i, MetadataKeyID)
		}
		id := string(rawID)
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("decrypt payload %d: unknown encryption key ID %q (configured: %q); add that key to the ring to read it", i, id, c.ids)
		}
		data := p.GetData()
		if len(data) < nonceSize+aead.Overhead() {
			return nil, fmt.Errorf("decrypt payload %d with key %q: ciphertext too short (%d bytes)", i, id, len(data))
		}
		plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], aad(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt payload %d with key %q: %w (tampered, truncated, or not encrypted with this key)", i, id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decrypt payload %d with key %q: unmarshal: %w", i, id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// aad returns the additional authenticated data for a key ID.
func aad(keyID string) []byte { return []byte(aadPrefix + keyID) }

// DataConverter returns the SDK's default data converter wrapped with a
// Codec over keys: what every breachflow client and worker must use.
func DataConverter(keys Keys) (converter.DataConverter, error) {
	c, err := NewCodec(keys)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// FailureConverter returns the SDK's default failure converter with
// EncodeCommonAttributes on: a failure's message and stack trace, which
// may quote an address or a number, travel as an encoded payload through
// dc instead of in clear (the clear message becomes "Encoded failure").
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// ClientOptions sets opts' DataConverter and FailureConverter to encrypt
// with keys. Workers inherit both from their client.
func ClientOptions(opts *client.Options, keys Keys) error {
	dc, err := DataConverter(keys)
	if err != nil {
		return err
	}
	opts.DataConverter = dc
	opts.FailureConverter = FailureConverter(dc)
	return nil
}
