// transit-server: the transit tests' Vault, cut down to what they use.
//
// It is HashiCorp Vault's own core, HTTP API, token store, ACL policies, file audit device and
// transit secrets engine (github.com/hashicorp/vault at the version scripts/build-vault.sh pins),
// set up as `vault server -dev -dev-tls -dev-listen-address=ADDR` sets them up: dev mode's TLS
// configuration (its CA and a certificate for 127.0.0.1, its listener with the PROXY protocol
// settings, its telemetry with unauthenticated /v1/sys/metrics), in-memory storage, initialised
// with one Shamir share and unsealed at once, a root token with the ID the caller chose, the raw
// and introspection endpoints, and kv version 2 at secret/. What it leaves out is the rest of the
// `vault` command: the CLI, the other storage backends, seals, auth methods, audit devices and
// secrets engines, and the plugin catalog (enabling any of those is refused: "plugin not found in
// the catalog"). Building the whole command compiled about 2,300 Go packages; this compiles the
// ones the core needs, so a machine with empty caches spends much less of its CI time on a
// server the tests only use through /v1/.
//
// Usage:
//
//	transit-server -listen 127.0.0.1:PORT -tls-dir DIR -root-token-file FILE
//	transit-server -version
//
// -tls-dir receives vault-ca.pem, vault-cert.pem and vault-key.pem, as -dev-tls-cert-dir does.
// The root token is read from a file, not the command line, so `ps` does not show it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/cli"
	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/audit"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/command/server"
	"github.com/hashicorp/vault/helper/metricsutil"
	"github.com/hashicorp/vault/helper/namespace"
	"github.com/hashicorp/vault/helper/useragent"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
	"github.com/hashicorp/vault/version"
)

func main() {
	listen := flag.String("listen", "", "address to serve HTTPS on (127.0.0.1:PORT)")
	tlsDir := flag.String("tls-dir", "", "directory that receives the CA, certificate and key")
	tokenFile := flag.String("root-token-file", "", "file holding the root token's ID")
	showVersion := flag.Bool("version", false, "print the Vault version this is built from")
	flag.Parse()
	if *showVersion {
		fmt.Printf("Vault v%s (transit-server: core, HTTP API, file audit, transit)\n",
			version.GetVersion().VersionNumber())
		return
	}
	if err := run(*listen, *tlsDir, *tokenFile); err != nil {
		fmt.Fprintf(os.Stderr, "transit-server: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, tlsDir, tokenFile string) error {
	if listen == "" || tlsDir == "" || tokenFile == "" {
		return errors.New("-listen, -tls-dir and -root-token-file are required")
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	// Only loopback, and only the address dev mode's certificate names: the tests' servers never
	// listen where another host could reach them.
	if host != "127.0.0.1" {
		return fmt.Errorf("-listen %q: only 127.0.0.1:PORT is served", listen)
	}
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	rootToken := strings.TrimSpace(string(raw))
	if rootToken == "" {
		return fmt.Errorf("-root-token-file %s is empty", tokenFile)
	}

	ui := &cli.BasicUi{Writer: os.Stdout, ErrorWriter: os.Stderr}
	logger := hclog.New(&hclog.LoggerOptions{Name: "transit-server", Level: hclog.Info, Output: os.Stdout})
	// What `vault server -dev -dev-tls -dev-listen-address=...` builds (command/server.go): dev
	// mode's TLS configuration (its CA, certificate and key written to tlsDir, the listener, the
	// telemetry block, the raw endpoint and the UI flag), with the chosen address.
	config, err := server.DevTLSConfig("inmem", tlsDir, nil)
	if err != nil {
		return fmt.Errorf("dev TLS configuration: %w", err)
	}
	lnConfig := config.Listeners[0]
	lnConfig.Address = listen
	lnConfig.Telemetry.UnauthenticatedMetricsAccess = true
	inmemMetrics, metricSink, prometheus, err := configutil.SetupTelemetry(&configutil.SetupTelemetryOpts{
		Config:      config.Telemetry,
		Ui:          ui,
		ServiceName: "vault",
		DisplayName: "Vault",
		UserAgent:   useragent.String(),
	})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	backend, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return err
	}
	core, err := vault.NewCore(&vault.CoreConfig{
		RawConfig:           config,
		Physical:            backend,
		StorageType:         "inmem",
		Logger:              logger,
		DisableMlock:        config.DisableMlock,
		EnableUI:            config.EnableUI,
		EnableRaw:           true, // dev mode's, as createCoreConfig sets them
		EnableIntrospection: true,
		DefaultLeaseTTL:     config.DefaultLeaseTTL,
		MaxLeaseTTL:         config.MaxLeaseTTL,
		RedirectAddr:        configutil.NormalizeAddr("https://" + listen),
		LogicalBackends:     map[string]logical.Factory{"transit": transit.Factory},
		AuditBackends:       map[string]audit.Factory{"file": audit.NewFileBackend},
		BuiltinRegistry:     noPlugins{},
		MetricsHelper:       metricsutil.NewMetricsHelper(inmemMetrics, prometheus),
		MetricSink:          metricSink,
		DevToken:            rootToken,
	})
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	defer core.Shutdown()
	if err := initDev(core, rootToken); err != nil {
		return err
	}

	ln, _, _, err := server.NewListener(lnConfig, os.Stdout, ui)
	if err != nil {
		return fmt.Errorf("listener: %w", err)
	}
	handler := vaulthttp.Handler.Handler(&vault.HandlerProperties{Core: core, ListenerConfig: lnConfig})
	// The timeouts `vault server` uses by default (startHttpServers).
	httpServer := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          logger.StandardLogger(nil),
	}
	logger.Info("serving", "address", "https://"+listen)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return httpServer.Shutdown(ctx)
	}
}

// initDev does what `vault server -dev` does after creating the core (command/server.go,
// enableDev): initialise with a single Shamir share, unseal with it, make the root token with
// the chosen ID and revoke the generated one.
func initDev(core *vault.Core, rootToken string) error {
	ctx := namespace.ContextWithNamespace(context.Background(), namespace.RootNamespace)
	init, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{SecretShares: 1, SecretThreshold: 1, Name: "shamir"},
	})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	unsealed, err := core.Unseal(init.SecretShares[0])
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	if !unsealed {
		return errors.New("unseal: still sealed after the only share")
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		active, _, _, err := core.Leader()
		if err != nil && !errors.Is(err, vault.ErrHANotEnabled) {
			return fmt.Errorf("active status: %w", err)
		}
		if err != nil || active {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("not active after 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	req := &logical.Request{
		ID:          "dev-gen-root",
		Operation:   logical.UpdateOperation,
		ClientToken: init.RootToken,
		Path:        "auth/token/create",
		Data: map[string]interface{}{
			"id": rootToken, "policies": []string{"root"}, "no_parent": true, "no_default_policy": true,
		},
	}
	resp, err := core.HandleRequest(ctx, req)
	if err != nil || resp == nil || resp.Auth == nil {
		return fmt.Errorf("creating the root token: %v %v", err, resp)
	}
	req.ID, req.Path, req.Data = "dev-revoke-init-root", "auth/token/revoke-self", nil
	if _, err := core.HandleRequest(ctx, req); err != nil {
		return fmt.Errorf("revoking the initial root token: %w", err)
	}
	// Dev mode's key/value store at secret/ (version 2), so a mount path of "secret" finds the
	// same engine there as on a dev server.
	resp, err = core.HandleRequest(ctx, &logical.Request{
		Operation:   logical.UpdateOperation,
		ClientToken: rootToken,
		Path:        "sys/mounts/secret",
		Data: map[string]interface{}{
			"type": "kv", "path": "secret/", "description": "key/value secret storage",
			"options": map[string]string{"version": "2"},
		},
	})
	if err != nil {
		return fmt.Errorf("mounting secret/: %w", err)
	}
	if resp.IsError() {
		return fmt.Errorf("mounting secret/: %w", resp.Error())
	}
	return nil
}

// noPlugins is the plugin catalog's registry of built-in plugins, empty: only the backends
// passed to the core exist (its own system, token, cubbyhole, identity and kv, and transit).
type noPlugins struct{}

func (noPlugins) Contains(string, consts.PluginType) bool { return false }
func (noPlugins) Get(string, consts.PluginType) (func() (interface{}, error), bool) {
	return nil, false
}
func (noPlugins) Keys(consts.PluginType) []string { return nil }
func (noPlugins) DeprecationStatus(string, consts.PluginType) (consts.DeprecationStatus, bool) {
	return consts.Unknown, false
}
func (noPlugins) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
