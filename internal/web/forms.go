package web

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// form is a posted form with its field errors, for re-rendering: templates
// read values with .Form.V "name" and errors with .Form.E "name", so input
// is kept and errors sit next to their fields.
type form struct {
	Values url.Values
	Errors map[string]string
}

func newForm(v url.Values) *form {
	if v == nil {
		v = url.Values{}
	}
	return &form{Values: v, Errors: map[string]string{}}
}

// V is a field's value.
func (f *form) V(name string) string { return f.Values.Get(name) }

// E is a field's error.
func (f *form) E(name string) string { return f.Errors[name] }

// Has reports whether a multi-valued field (checkboxes) holds value.
func (f *form) Has(name, value string) bool {
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// OK reports whether no field has an error.
func (f *form) OK() bool { return len(f.Errors) == 0 }

// fail records an error for a field (the first one wins).
func (f *form) fail(name, format string, a ...any) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = fmt.Sprintf(format, a...)
	}
}

// set replaces a value (a cleaned or derived one).
func (f *form) set(name, v string) { f.Values.Set(name, v) }

// textOpts describes a free-text field.
type textOpts struct {
	required  bool
	max       int  // characters
	multiline bool // keeps line breaks; otherwise whitespace is collapsed
}

// text validates and cleans a plain-text field: required, length, no
// control characters. Any other character is plain text, "<" and ">"
// included ("Name <email>", "<linux/ioctl.h>"): pages escape it on output
// (html/template) and the emails are plain text, so markup is only ever
// shown as the characters typed.
func (f *form) text(name string, o textOpts) string {
	v := strings.TrimSpace(f.V(name))
	if !o.multiline {
		v = strings.Join(strings.Fields(v), " ")
	} else {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	f.set(name, v)
	switch {
	case v == "" && o.required:
		f.fail(name, "This field is required.")
	case !utf8.ValidString(v):
		f.fail(name, "This is not valid text.")
	case o.max > 0 && utf8.RuneCountInString(v) > o.max:
		f.fail(name, "At most %d characters, please (this has %d).", o.max, utf8.RuneCountInString(v))
	case hasControl(v, o.multiline):
		f.fail(name, "This contains control characters.")
	}
	return v
}

func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return true
		}
	}
	return false
}

// email validates an email address field (a bare address, no display name).
func (f *form) email(name string, required bool) string {
	v := strings.TrimSpace(f.V(name))
	f.set(name, v)
	if v == "" {
		if required {
			f.fail(name, "This field is required.")
		}
		return ""
	}
	if err := checkEmail(v); err != nil {
		f.fail(name, "%s", err.Error())
	}
	return v
}

func checkEmail(v string) error {
	if len(v) > 254 {
		//lint:ignore ST1005 shown to the user as a sentence
		return fmt.Errorf("At most 254 characters, please.")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") ||
		strings.ContainsAny(v, " <>\"") {
		//lint:ignore ST1005 shown to the user as a sentence
		return fmt.Errorf("Enter an email address like name@example.org.")
	}
	return nil
}

// webURL validates an optional http(s) URL field; macros (%branch%) are
// allowed when templates is set.
func (f *form) webURL(name string, max int, templates bool) string {
	v := strings.TrimSpace(f.V(name))
	f.set(name, v)
	if v == "" {
		return ""
	}
	if len(v) > max {
		f.fail(name, "At most %d characters, please.", max)
		return v
	}
	check := v
	if templates {
		check = macro.ReplaceAllString(v, "x")
	}
	u, err := url.Parse(check)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(check, " <>\"'\\") || hasControl(check, false) {
		f.fail(name, "Enter an http:// or https:// URL.")
	}
	return v
}

// macro matches the URL template macros upstream supports.
var macro = regexp.MustCompile(`%(branch|path|hash|actual_branch|pathelement\[[0-9:]+\])%`)
