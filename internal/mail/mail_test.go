package mail_test

import (
	"strings"
	"testing"

	"layerindex/internal/mail"
	"layerindex/templates"
)

// TestTemplates renders every email with the values its caller passes:
// one-line subjects, the site named, no template errors (missing values
// fail instead of printing "<no value>").
func TestTemplates(t *testing.T) {
	tm, err := mail.LoadTemplates(templates.FS, mail.Site{Name: "Test Index", BaseURL: "https://layers.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	link := "https://layers.example.org/x/"
	values := map[string]map[string]any{
		"verify":           {"Name": "Ann", "Link": link, "Hours": 48},
		"register_exists":  nil,
		"reset":            {"Link": link, "Minutes": 60},
		"email_change":     {"Name": "", "Link": link, "Hours": 48},
		"email_changed":    {"NewEmail": "new@example.org"},
		"password_changed": nil,
		"submitted":        {"Name": "Admin", "Layer": "meta-foo", "Type": "Software", "By": "", "Summary": "S", "Repository": "https://r", "Link": link},
		"published":        {"Names": "A and B", "Layer": "meta-foo", "Link": link},
		"rejected":         {"Layer": "meta-foo", "Repository": "https://r", "Reason": "No license.\nAnd more."},
		"maintainer_added": {"Name": "C", "Layer": "meta-foo", "By": "b@example.org", "Link": link},
	}
	for kind, v := range values {
		m, err := tm.Render(kind, []string{"to@example.org"}, v)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") || !strings.Contains(m.Subject+m.Body, "Test Index") {
			t.Errorf("%s: subject %q", kind, m.Subject)
		}
		if strings.Contains(m.Body, "<no value>") || strings.HasPrefix(m.Body, "\n") {
			t.Errorf("%s body:\n%s", kind, m.Body)
		}
		if v["Link"] != nil && !strings.Contains(m.Body, link) {
			t.Errorf("%s: the link is missing", kind)
		}
	}
	if _, err := tm.Render("verify", nil, map[string]any{"Name": "x"}); err == nil {
		t.Error("a missing value rendered without error")
	}
	if _, err := tm.Render("nope", nil, nil); err == nil {
		t.Error("an unknown template rendered")
	}
	// A value cannot add a header line to the subject.
	m, err := tm.Render("published", nil, map[string]any{"Names": "x", "Layer": "a\r\nBcc: evil@example.org", "Link": link})
	if err != nil || strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject with a newline in a value: %q %v", m.Subject, err)
	}
}

func TestSealer(t *testing.T) {
	a, _ := mail.NewSealer("0123456789abcdef0123456789abcdef")
	b, _ := mail.NewSealer("fedcba9876543210fedcba9876543210")
	s := a.Seal("open https://x/reset/token/")
	if strings.Contains(s, "token") {
		t.Fatal("sealed text is readable")
	}
	if got, err := a.Open(s); err != nil || got != "open https://x/reset/token/" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(s); err == nil {
		t.Error("opened with another key")
	}
	if _, err := a.Open(s[:len(s)-4] + "AAAA"); err == nil {
		t.Error("opened a tampered message")
	}
	if _, err := mail.NewSealer("short"); err == nil {
		t.Error("a short secret was accepted")
	}
	if mail.MessageID(42, "Index <index@layers.example.org>") != "layerindex-job-42@layers.example.org" {
		t.Error(mail.MessageID(42, "Index <index@layers.example.org>"))
	}
}
