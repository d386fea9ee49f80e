// transit-server: the transit tests' Vault, cut down to what they use.
//
// It is HashiCorp Vault's own core, HTTP API, token store, ACL policies, file audit device and
// transit secrets engine (github.com/hashicorp/vault at the version scripts/build-vault.sh pins),
// started the way `vault server -dev` starts them: in-memory storage, initialised with one
// Shamir share and unsealed at once, a root token with the ID the caller chose. What it leaves
// out is the `vault` command around them: the CLI, the other storage backends, seals, auth
// methods and secrets engines, and the plugin catalog. Building the whole command compiled
// about 2,300 Go packages; this compiles the ones the core needs, so a machine with empty
// caches spends much less of its CI time on a server the tests only use through /v1/.
//
// Usage:
//
//	transit-server -listen 127.0.0.1:PORT -tls-dir DIR -root-token-file FILE
//	transit-server -version
//
// -tls-dir receives vault-ca.pem (a throwaway CA), vault-cert.pem and vault-key.pem (the
// server's certificate for 127.0.0.1 and localhost), the names `vault server -dev-tls` uses.
// The root token is read from a file, not the command line, so `ps` does not show it.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/audit"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/helper/namespace"
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
	// Only loopback: the tests' servers never listen where another host could reach them.
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q: only a loopback address is served", listen)
	}
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	rootToken := strings.TrimSpace(string(raw))
	if rootToken == "" {
		return fmt.Errorf("-root-token-file %s is empty", tokenFile)
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "transit-server", Level: hclog.Info, Output: os.Stdout})
	backend, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return err
	}
	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:        backend,
		StorageType:     "inmem",
		Logger:          logger,
		DisableMlock:    true,
		LogicalBackends: map[string]logical.Factory{"transit": transit.Factory},
		AuditBackends:   map[string]audit.Factory{"file": audit.NewFileBackend},
		BuiltinRegistry: noPlugins{},
		DevToken:        rootToken,
	})
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	if err := initDev(core, rootToken); err != nil {
		return err
	}

	cert, err := writeTLS(tlsDir)
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	handler := vaulthttp.Handler.Handler(&vault.HandlerProperties{
		Core:           core,
		ListenerConfig: &configutil.Listener{Type: "tcp", Address: listen},
	})
	// The timeouts `vault server` uses by default.
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	logger.Info("serving", "address", "https://"+listen)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- server.ServeTLS(ln, "", "") }()
	select {
	case err := <-served:
		return err
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
		return core.Shutdown()
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
	return nil
}

// writeTLS makes a throwaway CA and a server certificate for 127.0.0.1 and localhost, writes
// them (and the key, 0600) under dir and returns the server's pair.
func writeTLS(dir string) (tls.Certificate, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "transit-server test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	// The key and certificate first, the CA last: the harness waits for the CA file.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"vault-key.pem", keyPEM, 0o600},
		{"vault-cert.pem", certPEM, 0o644},
		{"vault-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return tls.Certificate{}, err
		}
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

// noPlugins is the plugin catalog's registry of built-in plugins, empty: only the backends
// passed to the core exist (the core's own system, token, cubbyhole and identity, and transit).
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
