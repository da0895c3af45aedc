package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"layerindex/internal/gitrepo/sshtest"
)

// TestREADMECredentials runs the "Company index" section's `credential`
// examples (with a real key file and host key line in place of the
// placeholders): both are stored, listed without their secrets, and an
// ssh URL is then accepted for a layer under the key's prefix only.
func TestREADMECredentials(t *testing.T) {
	text := section(t, readme(t), "## Company index")
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	host, _ := sshtest.NewKey(t)
	hostLine := "git.example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(host.PublicKey())))
	_, keyPEM := sshtest.NewKey(t)
	keyFile := filepath.Join(t.TempDir(), "deploy_key")
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "glpat-readme-example-token"
	ran := map[string]bool{}
	exs := examples(t, text)
	// The token's example reads it from a pipe: `echo "$FORGE_TOKEN" | layerindex …`.
	piped := regexp.MustCompile(`(?m)^    echo "\$FORGE_TOKEN" \| layerindex (credential set .*)$`).FindStringSubmatch(text)
	if piped == nil {
		t.Fatal("the README's token example is gone: update this test")
	}
	exs = append(exs, strings.Fields(piped[1]))
	for _, ex := range exs {
		if ex[0] != "credential" {
			continue
		}
		for i, w := range ex {
			switch {
			case w == "deploy_key":
				ex[i] = keyFile
			case strings.HasPrefix(w, "$(ssh-keyscan"):
				ex[i] = hostLine
			}
		}
		code, out, stderr := runCmd(t, env, token+"\n", ex...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s%s", ex, code, out, stderr)
		}
		ran[strings.Join(ex, " ")] = true
	}
	if len(ran) != 2 {
		t.Fatalf("expected a token and an ssh example, ran %v", ran)
	}
	_, list, _ := runCmd(t, env, "", "credential", "list")
	fp := ssh.FingerprintSHA256(host.PublicKey())
	for _, want := range []string{"https://git.example.com/bsp/\ttoken", "ssh://git.example.com/bsp/\tssh", fp} {
		if !strings.Contains(list, want) {
			t.Errorf("credential list lacks %q:\n%s", want, list)
		}
	}
	for _, secret := range []string{token, "PRIVATE KEY", strings.Split(keyPEM, "\n")[2]} {
		if strings.Contains(list, secret) {
			t.Errorf("credential list shows a secret:\n%s", list)
		}
	}
	if c, out, stderr := runCmd(t, env, "", "branch", "add", "master"); c != 0 {
		t.Fatal(out, stderr)
	}
	for i, c := range []struct {
		url string
		ok  bool
	}{
		{"git@git.example.com:bsp/meta-board.git", true},
		{"ssh://git@git.example.com/bsp/meta-other.git", true},
		{"git@git.example.com:team/meta-x.git", false},
	} {
		url, ok := c.url, c.ok
		code, out, stderr := runCmd(t, env, "", "layer", "add", "--name", fmt.Sprintf("meta-ssh%d", i), "--vcs-url", url)
		if (code == 0) != ok || (!ok && !strings.Contains(stderr, "no ssh deploy key")) {
			t.Errorf("layer add %s: exit %d %s%s", url, code, out, stderr)
		}
	}
	if c, out, stderr := runCmd(t, env, "", "credential", "remove", "--prefix", "ssh://git.example.com/bsp/"); c != 0 {
		t.Fatal(out, stderr)
	}
	if _, list, _ := runCmd(t, env, "", "credential", "list"); strings.Contains(list, "ssh://") {
		t.Errorf("removed, still listed:\n%s", list)
	}
}
