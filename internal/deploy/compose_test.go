package deploy_test

import (
	"maps"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/breachflow/breachflow/workflows"
)

// repoRoot is the repository root. go test runs a package's tests in the
// package directory, internal/deploy.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadCompose parses docker-compose.yml the way docker compose does
// (interpolation, merge keys, schema validation), with env as the whole
// environment: the developer's shell and any .env file are ignored, so the
// result does not depend on them.
// composeSecrets are the secrets docker-compose.yml requires: a
// deployment's .env. loadCompose adds them under the host's.
var composeSecrets = map[string]string{
	"BREACHFLOW_PUBLIC_URL":       "https://breach.example.co.jp",
	"BREACHFLOW_LINK_SECRET":      "env-link-secret",
	"BREACHFLOW_CODEC_KEYS":       "k1:env-codec-key",
	"BREACHFLOW_CODEC_TOKEN":      "env-codec-token",
	"SENDGRID_API_KEY":            "env-sendgrid-api-key",
	"SENDGRID_WEBHOOK_PUBLIC_KEY": "env-sendgrid-webhook-key",
	"TWILIO_ACCOUNT_SID":          "env-twilio-sid",
	"TWILIO_AUTH_TOKEN":           "env-twilio-token",
	"TWILIO_FROM_NUMBER":          "env-twilio-from",
	"SLACK_BOT_TOKEN":             "env-slack-bot-token",
}

func loadCompose(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	p, err := tryLoadCompose(t, env, true)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

// tryLoadCompose loads docker-compose.yml with the host's env (and, with
// secrets, composeSecrets under it).
func tryLoadCompose(t *testing.T, env map[string]string, secrets bool) (*types.Project, error) {
	t.Helper()
	root := repoRoot(t)
	all := map[string]string{}
	if secrets {
		maps.Copy(all, composeSecrets)
	}
	maps.Copy(all, env)
	var kv []string
	for k, v := range all {
		kv = append(kv, k+"="+v)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(kv),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(t.Context())
}

// TestComposeRefusesWithoutSecrets: docker-compose.yml requires every
// secret, so a deployment missing one stops before anything starts (no
// service restarting in a loop, no fallback to a public sandbox secret),
// with a message naming it.
func TestComposeRefusesWithoutSecrets(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(composeSecrets)) {
		t.Run(name, func(t *testing.T) {
			env := maps.Clone(composeSecrets)
			delete(env, name)
			_, err := tryLoadCompose(t, env, false)
			if err == nil {
				t.Fatalf("docker-compose.yml loads without %s", name)
			}
			if !strings.Contains(err.Error(), "set "+name) {
				t.Errorf("the refusal does not name %s: %v", name, err)
			}
		})
	}
	for _, s := range []string{"BREACHFLOW_SANDBOX", "BREACHFLOW_SANDBOX_URL", "BREACHFLOW_CODEC_INSECURE_NO_AUTH"} {
		p := loadCompose(t, nil)
		for _, name := range slices.Sorted(maps.Keys(p.Services)) {
			if v, ok := env(p.Services[name], s); ok {
				t.Errorf("%s: %s=%q: a deployment never runs in sandbox mode or without the codec token", name, s, v)
			}
		}
	}
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return s
}

// env is a service's environment variable; ok is false when it is not set
// (or set without a value, which would make compose take it from the host).
func env(s types.ServiceConfig, name string) (value string, ok bool) {
	v := s.Environment[name]
	if v == nil {
		return "", false
	}
	return *v, true
}

// flagValues returns every value of the flag name in args, in both the
// "--name value" and the "--name=value" forms.
func flagValues(args []string, name string) []string {
	var vals []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == name && i+1 < len(args):
			vals = append(vals, args[i+1])
			i++
		case strings.HasPrefix(args[i], name+"="):
			vals = append(vals, strings.TrimPrefix(args[i], name+"="))
		}
	}
	return vals
}

// flagOr is the last value of the flag name in args, or def without one.
func flagOr(args []string, name, def string) string {
	if vals := flagValues(args, name); len(vals) > 0 {
		return vals[len(vals)-1]
	}
	return def
}

// imagePinned reports whether an image reference names a fixed version: a
// digest, or a tag other than latest.
func imagePinned(ref string) bool {
	if _, digest, ok := strings.Cut(ref, "@"); ok {
		return strings.HasPrefix(digest, "sha256:")
	}
	name := ref[strings.LastIndex(ref, "/")+1:] // a registry's :port is before the last /
	_, tag, ok := strings.Cut(name, ":")
	return ok && tag != "" && tag != "latest"
}

func TestImagePinned(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"temporalio/temporal:1.5.1", true},
		{"temporalio/temporal", false},
		{"temporalio/temporal:latest", false},
		{"temporalio/temporal:", false},
		{"localhost:5000/temporal", false},
		{"localhost:5000/temporal:1.5.1", true},
		{"temporalio/ui@sha256:0123456789abcdef", true},
		{"gcr.io/distroless/static-debian12:nonroot", true},
	}
	for _, tt := range tests {
		if got := imagePinned(tt.ref); got != tt.want {
			t.Errorf("imagePinned(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, nil)
	tests := []struct {
		service string
		image   string // repository of a pulled image, without the tag
		target  string // Dockerfile target of a built image
		command []string
	}{
		{service: "temporal", image: "temporalio/temporal"},
		{service: "temporal-ui", image: "temporalio/ui"},
		{service: "worker", target: "worker"},
		{service: "starter", target: "starter", command: []string{"serve"}},
		{service: "codec-server", target: "starter", command: []string{"codec-server"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := service(t, p, tt.service)
			if tt.image != "" {
				if repo, _, _ := strings.Cut(s.Image, ":"); repo != tt.image {
					t.Errorf("image = %q, want %s:<version>", s.Image, tt.image)
				}
			}
			if tt.target != "" {
				switch {
				case s.Build == nil:
					t.Errorf("no build section, want Dockerfile target %q", tt.target)
				case s.Build.Target != tt.target:
					t.Errorf("build target = %q, want %q", s.Build.Target, tt.target)
				case s.Build.Context != repoRoot(t):
					t.Errorf("build context = %q, want the repository root %q", s.Build.Context, repoRoot(t))
				}
			}
			if tt.command != nil && !slices.Equal(s.Command, tt.command) {
				t.Errorf("command = %q, want %q", s.Command, tt.command)
			}
		})
	}
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t, nil)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		switch {
		case s.Image == "" && s.Build == nil:
			t.Errorf("service %s: neither image nor build", name)
		case s.Image == "":
			// Built from the Dockerfile, whose base images
			// TestDockerfileBaseImagesPinned checks.
		case !imagePinned(s.Image):
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		case strings.Contains(s.Image, "auto-setup"):
			t.Errorf("service %s: image %q: temporalio/auto-setup is deprecated; use temporalio/temporal server start-dev", name, s.Image)
		}
	}
}

func TestComposeTemporalSearchAttributes(t *testing.T) {
	p := loadCompose(t, nil)
	cmd := service(t, p, "temporal").Command

	want := map[string]string{}
	for _, sa := range workflows.SearchAttributes() {
		want[sa.Name] = sa.CLIType()
	}
	if len(want) == 0 {
		t.Fatal("workflows.SearchAttributes() is empty")
	}

	got := map[string]string{}
	for _, v := range flagValues(cmd, "--search-attribute") {
		name, typ, ok := strings.Cut(v, "=")
		if !ok {
			t.Errorf("--search-attribute %q: want Name=Type", v)
			continue
		}
		if _, dup := got[name]; dup {
			t.Errorf("search attribute %s registered twice", name)
		}
		got[name] = typ
	}

	for _, name := range slices.Sorted(maps.Keys(want)) {
		switch typ, ok := got[name]; {
		case !ok:
			t.Errorf("search attribute %s not registered; add --search-attribute %s=%s", name, name, want[name])
		case typ != want[name]:
			t.Errorf("search attribute %s registered as %s, want %s", name, typ, want[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			t.Errorf("search attribute %s registered but not in workflows.SearchAttributes()", name)
		}
	}
}

func TestComposeTemporalServer(t *testing.T) {
	p := loadCompose(t, nil)
	temporal := service(t, p, "temporal")
	cmd := temporal.Command
	if len(cmd) < 2 || cmd[0] != "server" || cmd[1] != "start-dev" {
		t.Fatalf("temporal command = %q, want server start-dev ...", cmd)
	}
	namespace, _ := env(service(t, p, "worker"), "TEMPORAL_NAMESPACE")

	flags := []struct {
		flag, want, why string
	}{
		{"--ip", "0.0.0.0", "other containers must reach the frontend"},
		{"--ui-ip", "0.0.0.0", "the published UI port must reach the UI"},
		{"--namespace", namespace, "the worker's TEMPORAL_NAMESPACE must exist"},
	}
	for _, f := range flags {
		if got := flagValues(cmd, f.flag); !slices.Equal(got, []string{f.want}) {
			t.Errorf("temporal %s = %q, want %q: %s", f.flag, got, f.want, f.why)
		}
	}

	// The SQLite database must live on a named volume, or every incident
	// is lost with the container.
	db := flagOr(cmd, "--db-filename", "")
	if db == "" {
		t.Fatal("temporal has no --db-filename: the dev server keeps everything in memory")
	}
	if !slices.ContainsFunc(temporal.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Target == path.Dir(db)
	}) {
		t.Errorf("--db-filename %s: no named volume mounted on %s", db, path.Dir(db))
	}

	hc := temporal.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) < 2 || hc.Test[0] == "NONE" {
		t.Error("temporal has no healthcheck test; the other services wait for it to be healthy")
	}
}

// listeners says where each service listens inside the compose network,
// read from the configuration that decides it.
var listeners = map[string]func(t *testing.T, p *types.Project) (host, port string){
	"temporal": func(t *testing.T, p *types.Project) (string, string) {
		cmd := service(t, p, "temporal").Command
		return flagOr(cmd, "--ip", "localhost"), flagOr(cmd, "--port", "7233")
	},
	"temporal (ui)": func(t *testing.T, p *types.Project) (string, string) {
		cmd := service(t, p, "temporal").Command
		return flagOr(cmd, "--ui-ip", flagOr(cmd, "--ip", "localhost")), flagOr(cmd, "--ui-port", "8233")
	},
	"temporal-ui": func(t *testing.T, p *types.Project) (string, string) {
		port, ok := env(service(t, p, "temporal-ui"), "TEMPORAL_UI_PORT")
		if !ok {
			port = "8080"
		}
		return "0.0.0.0", port
	},
	"starter": func(t *testing.T, p *types.Project) (string, string) {
		return envHostPort(t, service(t, p, "starter"), "BREACHFLOW_LISTEN_ADDR")
	},
	// `starter codec-server` reads BREACHFLOW_CODEC_LISTEN_ADDR (starter/codec.go).
	"codec-server": func(t *testing.T, p *types.Project) (string, string) {
		return envHostPort(t, service(t, p, "codec-server"), "BREACHFLOW_CODEC_LISTEN_ADDR")
	},
}

func envHostPort(t *testing.T, s types.ServiceConfig, name string) (string, string) {
	t.Helper()
	v, ok := env(s, name)
	if !ok {
		t.Fatalf("service %s: %s not set (the default listens on 127.0.0.1 only)", s.Name, name)
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		t.Fatalf("service %s: %s=%q: %v", s.Name, name, v, err)
	}
	return host, port
}

func TestComposeListenersPublished(t *testing.T) {
	p := loadCompose(t, nil)
	tests := []struct {
		listener, service string
		hostPort          string
	}{
		{"temporal", "temporal", "7233"},
		{"temporal (ui)", "temporal", "8233"},
		{"temporal-ui", "temporal-ui", "8088"},
		{"starter", "starter", "8080"},
		{"codec-server", "codec-server", "8081"},
	}
	for _, tt := range tests {
		t.Run(tt.listener, func(t *testing.T) {
			host, port := listeners[tt.listener](t, p)
			if host != "0.0.0.0" {
				t.Errorf("listens on %s: unreachable from other containers and published ports; want 0.0.0.0", host)
			}
			ports := service(t, p, tt.service).Ports
			i := slices.IndexFunc(ports, func(pc types.ServicePortConfig) bool {
				return pc.Published == tt.hostPort
			})
			if i < 0 {
				t.Fatalf("host port %s not published (ports: %+v)", tt.hostPort, ports)
			}
			if got := ports[i]; got.Target == 0 || got.Target != parsePort(t, port) {
				t.Errorf("host port %s goes to container port %d, but the service listens on %s", tt.hostPort, got.Target, port)
			}
			// The dev server and the UI have no authentication.
			if got := ports[i].HostIP; got != "127.0.0.1" {
				t.Errorf("host port %s published on %q, want 127.0.0.1 (see the comment at the top of docker-compose.yml)", tt.hostPort, got)
			}
		})
	}
}

func parsePort(t *testing.T, s string) uint32 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return uint32(n)
}

func TestComposeHostPortsDistinct(t *testing.T) {
	p := loadCompose(t, nil)
	owner := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		for _, pc := range p.Services[name].Ports {
			if prev, dup := owner[pc.Published]; dup {
				t.Errorf("host port %s published by both %s and %s", pc.Published, prev, name)
			}
			owner[pc.Published] = name
		}
	}
}

// TestComposeClients checks that every address a service is given names the
// service it means and the port that service listens on.
func TestComposeClients(t *testing.T) {
	p := loadCompose(t, nil)
	tests := []struct {
		client, variable string
		listener         string // key of listeners
	}{
		{"worker", "TEMPORAL_ADDRESS", "temporal"},
		{"starter", "TEMPORAL_ADDRESS", "temporal"},
		{"temporal-ui", "TEMPORAL_ADDRESS", "temporal"},
	}
	for _, tt := range tests {
		t.Run(tt.client+"/"+tt.variable, func(t *testing.T) {
			v, ok := env(service(t, p, tt.client), tt.variable)
			if !ok {
				t.Fatalf("%s not set", tt.variable)
			}
			hostport := v
			if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
				hostport = u.Host
			}
			host, port, err := net.SplitHostPort(hostport)
			if err != nil {
				t.Fatalf("%s=%q: %v", tt.variable, v, err)
			}
			if _, err := p.GetService(host); err != nil {
				t.Fatalf("%s=%q: %s is not a service of docker-compose.yml", tt.variable, v, host)
			}
			wantService, _, _ := strings.Cut(tt.listener, " ")
			_, wantPort := listeners[tt.listener](t, p)
			if host != wantService || port != wantPort {
				t.Errorf("%s=%q, want %s:%s", tt.variable, v, wantService, wantPort)
			}
		})
	}
}

// TestComposeUIOrigins checks that the standalone UI accepts requests from
// the page it serves: its CORS origins must name the published port.
func TestComposeUIOrigins(t *testing.T) {
	p := loadCompose(t, nil)
	ui := service(t, p, "temporal-ui")
	origins, _ := env(ui, "TEMPORAL_CORS_ORIGINS")
	list := strings.Split(origins, ",")
	for _, pc := range ui.Ports {
		for _, host := range []string{"localhost", "127.0.0.1"} {
			origin := "http://" + net.JoinHostPort(host, pc.Published)
			if !slices.Contains(list, origin) {
				t.Errorf("TEMPORAL_CORS_ORIGINS=%q does not include %s", origins, origin)
			}
		}
	}
	if len(ui.Ports) == 0 {
		t.Error("temporal-ui publishes no port")
	}
}

// shared are the settings the worker and the front door both need, and on
// which they must agree.
var shared = []string{
	"TEMPORAL_ADDRESS",
	"TEMPORAL_NAMESPACE",
	"BREACHFLOW_TASK_QUEUE",
	"BREACHFLOW_LIST_DIR",
	"BREACHFLOW_PUBLIC_URL",
	"BREACHFLOW_LINK_SECRET",
	"BREACHFLOW_CODEC_KEYS",
	"BREACHFLOW_MAIL_FROM",
	"BREACHFLOW_MAIL_FROM_NAME",
	"SLACK_BOT_TOKEN",
	"TWILIO_AUTH_TOKEN", // the worker calls with it, the front door verifies with it
}

func TestComposeSharedEnvironment(t *testing.T) {
	p := loadCompose(t, nil)
	worker, starter := service(t, p, "worker"), service(t, p, "starter")
	for _, name := range shared {
		w, wok := env(worker, name)
		s, sok := env(starter, name)
		switch {
		case !wok:
			t.Errorf("worker: %s not set", name)
		case !sok:
			t.Errorf("starter: %s not set", name)
		case w != s:
			t.Errorf("%s: worker has %q, starter has %q; they must agree", name, w, s)
		}
	}
}

// TestComposeHostEnvironment checks the settings users give through their
// own environment (or a .env file): passed through when set, a working
// default when not.
func TestComposeHostEnvironment(t *testing.T) {
	both := []string{"worker", "starter"}
	const required = "(required)"
	tests := []struct {
		name     string
		def      string // value when the host does not set it; required: compose refuses
		services []string
		not      []string // services that must not have it
	}{
		{"BREACHFLOW_TASK_QUEUE", "breachflow", both, nil},
		{"BREACHFLOW_PUBLIC_URL", required, both, nil},
		{"BREACHFLOW_LINK_SECRET", required, both, nil},
		{"BREACHFLOW_MAIL_FROM", "security@example.com", both, nil},
		{"BREACHFLOW_MAIL_FROM_NAME", "breachflow", both, nil},
		// The API keys go to the worker only, the webhook keys to the
		// front door only (SECURITY.md).
		{"SENDGRID_API_KEY", required, []string{"worker"}, []string{"starter", "codec-server"}},
		{"TWILIO_ACCOUNT_SID", required, []string{"worker"}, []string{"starter", "codec-server"}},
		{"TWILIO_FROM_NUMBER", required, []string{"worker"}, []string{"starter", "codec-server"}},
		{"SENDGRID_WEBHOOK_PUBLIC_KEY", required, []string{"starter"}, []string{"worker", "codec-server"}},
		{"TWILIO_AUTH_TOKEN", required, both, []string{"codec-server"}},
		{"SLACK_BOT_TOKEN", required, both, nil},
		{"SLACK_SIGNING_SECRET", "", []string{"starter"}, []string{"worker"}},
		{"SLACK_APP_TOKEN", "", []string{"starter"}, []string{"worker"}},
		// The codec server must decrypt what the worker and the starter
		// encrypt.
		{"BREACHFLOW_CODEC_KEYS", required, []string{"worker", "starter", "codec-server"}, nil},
		{"BREACHFLOW_CODEC_TOKEN", required, []string{"codec-server"}, both},
		{"BREACHFLOW_CODEC_ORIGINS", "http://localhost:8088,http://localhost:8233", []string{"codec-server"}, nil},
	}
	host := map[string]string{}
	for _, tt := range tests {
		host[tt.name] = "from-host-" + strings.ToLower(tt.name)
	}
	unset, set := loadCompose(t, nil), loadCompose(t, host)
	for _, tt := range tests {
		for _, svc := range tt.services {
			if got, _ := env(service(t, unset, svc), tt.name); tt.def != required && got != tt.def {
				t.Errorf("%s: %s = %q when the host does not set it, want %q", svc, tt.name, got, tt.def)
			}
			if got, _ := env(service(t, set, svc), tt.name); got != host[tt.name] {
				t.Errorf("%s: %s = %q when the host sets %q: not passed through", svc, tt.name, got, host[tt.name])
			}
		}
		for _, svc := range tt.not {
			if _, ok := env(service(t, set, svc), tt.name); ok {
				t.Errorf("%s has %s: it is not this service's secret", svc, tt.name)
			}
		}
		if tt.def == required {
			if _, ok := composeSecrets[tt.name]; !ok {
				t.Errorf("%s is required but not in composeSecrets (TestComposeRefusesWithoutSecrets)", tt.name)
			}
		}
	}
}

func TestComposeListsVolume(t *testing.T) {
	p := loadCompose(t, nil)
	sources := map[string]string{}
	for _, svc := range []string{"worker", "starter"} {
		s := service(t, p, svc)
		dir, ok := env(s, "BREACHFLOW_LIST_DIR")
		if !ok {
			t.Errorf("%s: BREACHFLOW_LIST_DIR not set", svc)
			continue
		}
		i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == dir })
		if i < 0 {
			t.Errorf("%s: nothing mounted on BREACHFLOW_LIST_DIR=%s", svc, dir)
			continue
		}
		v := s.Volumes[i]
		if v.Type != types.VolumeTypeVolume {
			t.Errorf("%s: %s is a %s mount, want a named volume", svc, dir, v.Type)
		}
		if _, declared := p.Volumes[v.Source]; !declared {
			t.Errorf("%s: volume %q is not declared under volumes:", svc, v.Source)
		}
		if svc == "starter" && v.ReadOnly {
			t.Errorf("starter: %s is read-only, but the starter stores the lists", dir)
		}
		sources[svc] = v.Source
	}
	if sources["worker"] != sources["starter"] {
		t.Errorf("lists: worker mounts volume %q, starter %q; the worker reads what the starter stores", sources["worker"], sources["starter"])
	}
}

func TestComposeDependsOnTemporal(t *testing.T) {
	p := loadCompose(t, nil)
	for _, svc := range []string{"worker", "starter", "temporal-ui"} {
		dep, ok := service(t, p, svc).DependsOn["temporal"]
		switch {
		case !ok:
			t.Errorf("%s: does not depend on temporal", svc)
		case dep.Condition != types.ServiceConditionHealthy:
			t.Errorf("%s: depends on temporal with condition %q, want %s", svc, dep.Condition, types.ServiceConditionHealthy)
		}
	}
}

// TestComposeCodecServer checks that both Temporal UIs decrypt through the
// codec server as the browser reaches it, and that the codec server serves
// those UIs and nobody without the token.
func TestComposeCodecServer(t *testing.T) {
	p := loadCompose(t, nil)
	codec := service(t, p, "codec-server")
	if len(codec.Ports) != 1 {
		t.Fatalf("codec-server publishes %d ports, want 1", len(codec.Ports))
	}
	published := codec.Ports[0].Published
	// The browser calls the codec server: its URL is the host's published
	// port, never a service name of the compose network.
	endpoint := "http://localhost:" + published

	t.Run("dev server UI", func(t *testing.T) {
		cmd := service(t, p, "temporal").Command
		if got := flagValues(cmd, "--ui-codec-endpoint"); !slices.Equal(got, []string{endpoint}) {
			t.Errorf("temporal --ui-codec-endpoint = %q, want %q", got, endpoint)
		}
	})
	t.Run("temporal-ui", func(t *testing.T) {
		ui := service(t, p, "temporal-ui")
		if got, _ := env(ui, "TEMPORAL_CODEC_ENDPOINT"); got != endpoint {
			t.Errorf("TEMPORAL_CODEC_ENDPOINT = %q, want %q", got, endpoint)
		}
		// The browser's session cookie from /login is the credential.
		if got, _ := env(ui, "TEMPORAL_CODEC_INCLUDE_CREDENTIALS"); got != "true" {
			t.Errorf("TEMPORAL_CODEC_INCLUDE_CREDENTIALS = %q, want true", got)
		}
	})
	t.Run("origins", func(t *testing.T) {
		origins, _ := env(codec, "BREACHFLOW_CODEC_ORIGINS")
		list := strings.Split(origins, ",")
		if slices.Contains(list, "*") {
			t.Fatalf("BREACHFLOW_CODEC_ORIGINS=%q: * is refused by the codec server", origins)
		}
		// Each UI's page, as the browser opens it on the host.
		uis := []struct{ name, port string }{
			{"temporal-ui", service(t, p, "temporal-ui").Ports[0].Published},
			{"the dev server's UI", flagOr(service(t, p, "temporal").Command, "--ui-port", "8233")},
		}
		for _, ui := range uis {
			if origin := "http://localhost:" + ui.port; !slices.Contains(list, origin) {
				t.Errorf("BREACHFLOW_CODEC_ORIGINS=%q lacks %s (%s)", origins, origin, ui.name)
			}
		}
	})
	t.Run("authentication", func(t *testing.T) {
		// It listens on all interfaces of its container: never without a token.
		if v, ok := env(codec, "BREACHFLOW_CODEC_INSECURE_NO_AUTH"); ok {
			t.Errorf("BREACHFLOW_CODEC_INSECURE_NO_AUTH=%q: the codec server must require its token here", v)
		}
		host := loadCompose(t, map[string]string{"BREACHFLOW_CODEC_TOKEN": "from-host-token"})
		if got, _ := env(service(t, host, "codec-server"), "BREACHFLOW_CODEC_TOKEN"); got != "from-host-token" {
			t.Errorf("BREACHFLOW_CODEC_TOKEN = %q, want the host's", got)
		}
	})
	t.Run("keys", func(t *testing.T) {
		host := loadCompose(t, map[string]string{"BREACHFLOW_CODEC_KEYS": "k1:a2V5"})
		for _, svc := range []string{"worker", "starter", "codec-server"} {
			if got, _ := env(service(t, host, svc), "BREACHFLOW_CODEC_KEYS"); got != "k1:a2V5" {
				t.Errorf("%s: BREACHFLOW_CODEC_KEYS = %q, want the host's", svc, got)
			}
		}
	})
}
