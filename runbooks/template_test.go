package runbooks_test

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

func TestTemplateRender(t *testing.T) {
	data := runbooks.NoticeData{IncidentID: "INC-1", Organization: "Org", ContactPhone: "050", ContactHours: "11-17"}
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr string // substring; "" means it renders
	}{
		{name: "fields", body: "{{.Organization}} {{.IncidentID}}", want: "Org INC-1"},
		{name: "root variable", body: "{{$.Organization}}", want: "Org"},
		{name: "if and with", body: "{{if .ContactPhone}}tel {{.ContactPhone}}{{end}}{{with .ContactEmail}}mail {{.}}{{else}}no mail{{end}}", want: "tel 050no mail"},
		{name: "functions", body: `{{printf "%s (%s)" .ContactPhone .ContactHours}}`, want: "050 (11-17)"},
		{name: "define and call", body: `{{define "sig"}}-- {{.Organization}}{{end}}{{template "sig" .}}`, want: "-- Org"},
		{name: "unknown field", body: "{{.Name}}", wantErr: "unknown field .Name"},
		{name: "unknown field under $", body: "{{$.Recipients}}", wantErr: "unknown field .Recipients"},
		{name: "field of a field", body: "{{.Organization.Name}}", wantErr: ".Organization is text and has no field .Name"},
		{name: "unknown field in a branch", body: "{{if .ContactPhone}}{{.Phone}}{{end}}", wantErr: "unknown field .Phone"},
		{name: "field on an expression", body: `{{(printf "x").Len}}`, wantErr: "field access on an expression"},
		{name: "range", body: "{{range 1000000000}}x{{end}}", wantErr: "{{range}} is not supported"},
		{name: "undefined template", body: `{{template "sig" .}}`, wantErr: `{{template "sig"}} names no {{define}}d template`},
		{name: "syntax", body: "{{if .ContactPhone}}", wantErr: "unexpected EOF"},
		{name: "unknown function", body: "{{upper .Organization}}", wantErr: `function "upper" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := runbooks.Template{
				Subject: runbooks.Localized{Ja: "件名", En: "Subject"},
				Body:    runbooks.Localized{Ja: tt.body, En: tt.body},
			}
			for _, lang := range []string{"ja", "en"} {
				subject, body, err := tmpl.Render(lang, data)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Render(%s) error = %v, want %q", lang, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Render(%s): %v", lang, err)
				}
				if body != tt.want || subject != tmpl.Subject.In(lang) {
					t.Errorf("Render(%s) = %q, %q; want %q, %q", lang, subject, body, tmpl.Subject.In(lang), tt.want)
				}
			}
		})
	}
}

func TestLocalizedIn(t *testing.T) {
	l := runbooks.Localized{Ja: "誤送信", En: "Missend"}
	for lang, want := range map[string]string{"ja": "誤送信", "en": "Missend", "": "Missend", "de": "Missend"} {
		if got := l.In(lang); got != want {
			t.Errorf("In(%q) = %q, want %q", lang, got, want)
		}
	}
}
