package redact

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// New returns a slog.Handler that redacts every record and attribute with
// Redact before passing it to inner:
//   - the message;
//   - attribute keys and group names;
//   - string values, also inside groups and from slog.LogValuer;
//   - errors and fmt.Stringers, as their redacted text;
//   - []byte and encoding.TextMarshaler values, as their redacted text;
//   - any other value (structs, maps, slices), through its JSON encoding,
//     as redacted JSON (json.RawMessage), or its redacted %+v text if it
//     has none.
//
// Numbers, booleans, times and durations pass unchanged.
func New(inner slog.Handler) slog.Handler { return &handler{inner: inner} }

// handler is the slog.Handler returned by New.
type handler struct{ inner slog.Handler }

// Enabled implements slog.Handler.
func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler. It passes inner a redacted copy and
// leaves r alone.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return &handler{inner: h.inner.WithAttrs(red)}
}

// WithGroup implements slog.Handler.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{inner: h.inner.WithGroup(Redact(name))}
}

func redactAttr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: Redact(a.Key), Value: redactValue(a.Value)}
}

func redactValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if r := Redact(s); r != s {
			return slog.StringValue(r)
		}
		return v
	case slog.KindGroup:
		as := v.Group()
		red := make([]slog.Attr, len(as))
		for i, a := range as {
			red[i] = redactAttr(a)
		}
		return slog.GroupValue(red...)
	case slog.KindAny:
		return redactAny(v.Any())
	}
	return v
}

// redactAny redacts a KindAny value.
func redactAny(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error, fmt.Stringer:
		// fmt copes with nil receivers and panicking methods.
		return slog.StringValue(Redact(fmt.Sprint(x)))
	case []byte:
		return slog.StringValue(Redact(string(x)))
	case encoding.TextMarshaler:
		text, err := x.MarshalText()
		if err != nil {
			return slog.StringValue(Redact(fmt.Sprintf("!ERROR:%v", err)))
		}
		return slog.StringValue(Redact(string(text)))
	}
	if raw, ok := redactJSON(x); ok {
		return slog.AnyValue(raw)
	}
	return slog.StringValue(Redact(fmt.Sprintf("%+v", x)))
}

// redactJSON returns x's JSON encoding with every string and object key
// redacted, or false if x has none.
func redactJSON(x any) (json.RawMessage, bool) {
	data, err := json.Marshal(x)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, false
	}
	out, err := json.Marshal(redactTree(tree))
	if err != nil {
		return nil, false
	}
	return out, true
}

// redactTree redacts the strings and keys of a decoded JSON value.
func redactTree(v any) any {
	switch v := v.(type) {
	case string:
		return Redact(v)
	case []any:
		for i := range v {
			v[i] = redactTree(v[i])
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[Redact(k)] = redactTree(e)
		}
		return out
	}
	return v
}

// NewJSONLogger returns the logger every breachflow process uses: JSON
// lines to w, with e-mail addresses and phone numbers redacted.
func NewJSONLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}
