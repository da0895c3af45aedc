package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Sealer encrypts message bodies while they wait in the job table: they
// carry single-use links (verification, password reset) that must not be
// readable from a database copy, the same reason the tokens are stored
// hashed. The key is derived from the site's secret key, which every
// process shares.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from secret.
func NewSealer(secret string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("secret key too short to seal mail")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "layerindex mail sealing", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts s.
func (x *Sealer) Seal(s string) string {
	nonce := make([]byte, x.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(x.aead.Seal(nonce, nonce, []byte(s), nil))
}

// Open decrypts what Seal made.
func (x *Sealer) Open(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) < x.aead.NonceSize() {
		return "", errors.New("sealed mail is malformed")
	}
	n := x.aead.NonceSize()
	out, err := x.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", errors.New("sealed mail does not open with this secret key (is LAYERINDEX_SECRET_KEY the same on every process?)")
	}
	return string(out), nil
}
