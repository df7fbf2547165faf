package roles_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/roles"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		roles map[string][]string // role -> addresses; nil role = not held
		err   string              // substring of the error; "" = no error
	}{
		{name: "empty is an empty directory", in: "", roles: map[string][]string{"legal": nil}},
		{name: "one role, two holders, blanks ignored",
			in:    " legal = a@example.com , b@example.com ; ",
			roles: map[string][]string{"legal": {"a@example.com", "b@example.com"}}},
		{name: "several roles",
			in: "privacy-officer=dpo@example.com;management=ceo@example.com,cfo@example.com",
			roles: map[string][]string{
				"privacy-officer": {"dpo@example.com"},
				"management":      {"ceo@example.com", "cfo@example.com"},
				"legal":           nil,
			}},
		{name: "missing =", in: "legal=a@example.com;legal b@example.com", err: `entry 2: want role=address`},
		{name: "role not a slug", in: "Legal=a@example.com", err: `role "Legal": a role is lower-case words`},
		{name: "role twice", in: "legal=a@example.com;legal=b@example.com", err: `role "legal" is listed twice`},
		{name: "display name refused", in: "legal=Alice <a@example.com>", err: `role "legal": address 1 is not a bare e-mail address`},
		{name: "not an address", in: "legal=alice", err: "address 1 is not a bare"},
		{name: "address twice", in: "legal=a@example.com,a@example.com", err: "address 2 is listed twice"},
		{name: "no address", in: "legal=", err: `role "legal" has no address`},
		{name: "every problem at once", in: "legal=;dpo=x", err: "role \"legal\" has no address\nrole \"dpo\": address 1 is not a bare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := roles.Parse(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.NotContains(t, err.Error(), "@example.com", "errors never echo addresses")
				return
			}
			require.NoError(t, err)
			for role, want := range tt.roles {
				require.Equal(t, want, d.Addresses(role), role)
			}
		})
	}
}

func TestDirectory_NamesMissingAndStringNeverShowAddresses(t *testing.T) {
	d, err := roles.FromEnv(func(k string) string {
		require.Equal(t, roles.EnvVar, k)
		return "management=ceo@example.com;legal=a@example.com,b@example.com"
	})
	require.NoError(t, err)
	require.Equal(t, []string{"legal", "management"}, d.Names())
	require.Equal(t, []string{"privacy-officer"}, d.Missing("legal", "privacy-officer", "management", "privacy-officer"))
	require.Equal(t, "legal (2), management (1)", d.String())
	require.False(t, strings.Contains(d.String(), "@"))

	got := d.Addresses("legal")
	got[0] = "changed@example.com"
	require.Equal(t, []string{"a@example.com", "b@example.com"}, d.Addresses("legal"), "Addresses returns a copy")

	_, err = roles.FromEnv(func(string) string { return "legal" })
	require.ErrorContains(t, err, roles.EnvVar+": ")
	require.Equal(t, "no roles", roles.Directory{}.String())
}
