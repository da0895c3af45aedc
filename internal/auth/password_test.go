package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	cases := []struct {
		pw, hash string
		ok       bool
	}{
		{"correct horse battery", h, true},
		{"correct horse batterY", h, false},
		{"", h, false},
		{"correct horse battery", "", false},
		{"correct horse battery", "$argon2id$garbage", false},
		{strings.Repeat("x", 5000), h, false},
	}
	for _, c := range cases {
		if got := CheckPassword(c.pw, c.hash); got != c.ok {
			t.Errorf("CheckPassword(%.20q, %.20q) = %v, want %v", c.pw, c.hash, got, c.ok)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "eight ch": true, "ééééééé": false, "éééééééé": true, strings.Repeat("a", 257): false} {
		if err := ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%q) = %v", pw, err)
		}
	}
}
