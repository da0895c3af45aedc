package web

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// TestLinkify: http(s) URLs in a note become links with rel="nofollow
// noopener"; everything else, hostile input included, is escaped text, and
// no attribute can be broken out of.
func TestLinkify(t *testing.T) {
	link := func(u string) string {
		e := template.HTMLEscapeString(u)
		return `<a href="` + e + `" rel="nofollow noopener">` + e + `</a>`
	}
	cases := []struct{ in, want string }{
		{"no links here", "no links here"},
		{"see https://example.org/x", "see " + link("https://example.org/x")},
		{"HTTP://EXAMPLE.ORG/A and http://b.org", link("HTTP://EXAMPLE.ORG/A") + " and " + link("http://b.org")},
		{"deprecated (use https://example.org/new).", "deprecated (use " + link("https://example.org/new") + ")."},
		{"https://en.wikipedia.org/wiki/Foo_(bar), ok", link("https://en.wikipedia.org/wiki/Foo_(bar)") + ", ok"},
		{"a https://x.org/?a=1&b=<2>", "a " + link("https://x.org/?a=1&b=") + "&lt;2&gt;"},
		{"<https://x.org/p>", "&lt;" + link("https://x.org/p") + "&gt;"},
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"JaVaScRiPt:alert(document.cookie)//https", "JaVaScRiPt:alert(document.cookie)//https"},
		{"data:text/html,<script>alert(1)</script>", "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"},
		{`https://x.org/" onmouseover="alert(1)`, link("https://x.org/") + `&#34; onmouseover=&#34;alert(1)`},
		{`https://x.org/'onfocus='alert(1)`, link("https://x.org/") + `&#39;onfocus=&#39;alert(1)`},
		{"https://x.org/`x`", link("https://x.org/") + "`x`"},
		{"xhttps://x.org/", "xhttps://x.org/"},
		{"https:// not a link, https://", "https:// not a link, https://"},
		{"ftp://x.org/file", "ftp://x.org/file"},
		{"<script>alert('https://x.org')</script>", "&lt;script&gt;alert(&#39;" + link("https://x.org") + "&#39;)&lt;/script&gt;"},
		{"line one\nhttps://x.org/two\n", "line one\n" + link("https://x.org/two") + "\n"},
	}
	for _, c := range cases {
		if got := string(linkify(c.in)); got != c.want {
			t.Errorf("linkify(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	// In a template the result is not escaped again, and every href it
	// produces is http(s).
	tpl := template.Must(template.New("x").Funcs(templateFuncs()).Parse(`<p>{{linkify .}}</p>`))
	for _, c := range cases {
		var b bytes.Buffer
		if err := tpl.Execute(&b, c.in); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, part := range strings.Split(out, `href="`)[1:] {
			if !strings.HasPrefix(strings.ToLower(part), "http://") && !strings.HasPrefix(strings.ToLower(part), "https://") {
				t.Errorf("%q: a link that is not http(s): %s", c.in, out)
			}
		}
		if strings.Contains(out, "<script") || strings.Count(out, "<a ") != strings.Count(c.want, "<a ") {
			t.Errorf("%q rendered as %s", c.in, out)
		}
	}
}
