// Package seal encrypts short secrets kept in the database (mail bodies with
// single-use links, private repositories' credentials) with AES-256-GCM under
// a key derived (HKDF-SHA256) from the site's secret key and a purpose, so a
// copy of the database alone reveals none of them, and a value sealed for one
// purpose does not open for another. Every process must share the secret key.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Errors of Open: the text is not something Seal made, or it was sealed
// under another secret key, purpose or additional data.
var (
	ErrMalformed = errors.New("sealed value is malformed")
	ErrNotOpened = errors.New("sealed value does not open with this key")
)

// Box seals and opens values for one purpose.
type Box struct{ aead cipher.AEAD }

// New derives the key of purpose from secret.
func New(secret, purpose string) (*Box, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
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
	return &Box{aead: aead}, nil
}

// Seal encrypts plain with a fresh nonce; ad (may be nil) is bound to it and
// must be given again to Open.
func (b *Box) Seal(plain string, ad []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), ad))
}

// Open decrypts what Seal made with the same additional data.
func (b *Box) Open(sealed string, ad []byte) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	n := b.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", ErrMalformed
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return "", ErrNotOpened
	}
	return string(plain), nil
}
