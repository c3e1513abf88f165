package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/testenv"
)

// TestHostsCoversEveryClientHost runs `abch hosts` and checks that every host
// name real clients called in the captures (soap.jsonl), every name the TLS
// certificate covers, and the NS names get a hosts-file line and a DNS
// record pointing at the given addresses.
func TestHostsCoversEveryClientHost(t *testing.T) {
	want := map[string]string{"messenger.hotmail.com": "192.0.2.11", "gateway.messenger.hotmail.com": "192.0.2.11", "nexus.passport.com": "192.0.2.10"}
	for _, h := range cli.ClientHosts {
		if h != "localhost" {
			want[h] = "192.0.2.10"
		}
	}
	captures, _ := filepath.Glob(filepath.Join(testenv.ClientsDir(t), "captures", "*", "soap.jsonl"))
	if len(captures) == 0 {
		t.Fatal("no captures found")
	}
	for _, f := range captures {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var call struct{ Host, SNI string }
			if err := json.Unmarshal(sc.Bytes(), &call); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, h := range []string{call.Host, call.SNI} {
				if h = strings.ToLower(h); h != "" {
					want[h] = "192.0.2.10"
				}
			}
		}
	}

	var out, errOut bytes.Buffer
	if code := cli.Run([]string{"hosts", "--address", "192.0.2.10", "--ns-address", "192.0.2.11"}, &out, &errOut); code != 0 {
		t.Fatalf("abch hosts: exit %d: %s", code, errOut.String())
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		lines[l] = true
	}
	for h, ip := range want {
		if !lines[ip+" "+h] {
			t.Errorf("no hosts line %q", ip+" "+h)
		}
		if !lines[h+". 300 IN A "+ip] {
			t.Errorf("no DNS record for %s → %s", h, ip)
		}
	}

	t.Run("a DALogin on another host is listed", func(t *testing.T) {
		var out bytes.Buffer
		if code := cli.Run([]string{"hosts", "--address", "192.0.2.10", "--passport-dalogin", "Tweener.Example.net/ppsecure/login2.srf"}, &out, io.Discard); code != 0 {
			t.Fatal("exit", code)
		}
		if !strings.Contains(out.String(), "\n192.0.2.10 tweener.example.net\n") || !strings.Contains(out.String(), "\ntweener.example.net. 300 IN A 192.0.2.10\n") {
			t.Errorf("no lines for the DALogin host:\n%s", out.String())
		}
		if strings.Count(out.String(), " login.passport.com\n") != 1 {
			t.Errorf("login.passport.com not listed exactly once:\n%s", out.String())
		}
	})
	t.Run("IPv6 address gives AAAA records", func(t *testing.T) {
		var out bytes.Buffer
		if code := cli.Run([]string{"hosts", "--address", "2001:db8::10", "--format", "zone"}, &out, io.Discard); code != 0 {
			t.Fatal("exit", code)
		}
		if !strings.Contains(out.String(), "login.live.com. 300 IN AAAA 2001:db8::10\n") || strings.Contains(out.String(), "\n2001:db8::10 ") {
			t.Errorf("zone output:\n%s", out.String())
		}
	})
	t.Run("hosts format prints only hosts lines", func(t *testing.T) {
		var out bytes.Buffer
		if code := cli.Run([]string{"hosts", "--address", "10.0.0.1", "--format", "hosts"}, &out, io.Discard); code != 0 {
			t.Fatal("exit", code)
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "10.0.0.1 ") {
				t.Errorf("unexpected line %q", l)
			}
		}
	})
	t.Run("a host name or no address is refused", func(t *testing.T) {
		for _, args := range [][]string{{"hosts"}, {"hosts", "--address", "abch.example.org"}, {"hosts", "--address", "10.0.0.1", "--format", "csv"}} {
			var errOut bytes.Buffer
			if code := cli.Run(args, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "--") {
				t.Errorf("%v: exit %d, %q", args, code, errOut.String())
			}
		}
	})
}
