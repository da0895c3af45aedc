package mail

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

// Templates renders the emails in templates/email: each <kind>.txt defines
// "subject" and "body".
type Templates struct {
	sets map[string]*template.Template
	site Site
}

// Site is what every email may mention.
type Site struct {
	Name    string // e.g. "OpenEmbedded Layer Index"
	BaseURL string // absolute, without a trailing slash
}

// LoadTemplates parses every email/*.txt of fsys.
func LoadTemplates(fsys fs.FS, site Site) (*Templates, error) {
	names, err := fs.Glob(fsys, "email/*.txt")
	if err != nil {
		return nil, err
	}
	t := &Templates{sets: map[string]*template.Template{}, site: site}
	for _, n := range names {
		kind := strings.TrimSuffix(path.Base(n), ".txt")
		set, err := template.New(kind).Option("missingkey=error").ParseFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("email template %s: %w", n, err)
		}
		if set.Lookup("subject") == nil || set.Lookup("body") == nil {
			continue // not a message (e.g. a README)
		}
		t.sets[kind] = set
	}
	return t, nil
}

// Data is what a template sees: the site, and the caller's values.
type Data struct {
	Site Site
	V    map[string]any
}

// Render builds the message kind for the recipients.
func (t *Templates) Render(kind string, to []string, values map[string]any) (Message, error) {
	set, ok := t.sets[kind]
	if !ok {
		return Message{}, fmt.Errorf("no email template %q", kind)
	}
	d := Data{Site: t.site, V: values}
	var subj, body bytes.Buffer
	if err := set.ExecuteTemplate(&subj, "subject", d); err != nil {
		return Message{}, fmt.Errorf("email %s subject: %w", kind, err)
	}
	if err := set.ExecuteTemplate(&body, "body", d); err != nil {
		return Message{}, fmt.Errorf("email %s body: %w", kind, err)
	}
	// One line, no header injection from values.
	s := strings.Join(strings.Fields(subj.String()), " ")
	return Message{Kind: kind, To: to, Subject: s, Body: strings.TrimLeft(body.String(), "\n")}, nil
}

// URL makes a site-absolute path absolute.
func (t *Templates) URL(p string) string { return t.site.BaseURL + p }
