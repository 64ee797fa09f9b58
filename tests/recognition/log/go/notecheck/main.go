// Command notecheck holds the project's signed notes to an implementation it
// did not write, golang.org/x/mod/sumdb/note (tests/recognition/log/test_notes.py).
//
//	notecheck verify NOTE-FILE VKEY...
//		Opens the note with note.Open and the given verifier keys; prints the
//		name of each verified key, one a line; exits 1, saying why, if Open
//		refuses the note.
//	notecheck sign NAME TEXT-FILE
//		Signs the text with a key made by note.GenerateKey; prints
//		{"vkey": ..., "note": ...} as JSON.
//
// note.NewVerifier knows only Ed25519 (type 0x01) keys. For a vkey of type
// 0x04 this program supplies a note.Verifier of its own that checks a
// c2sp.org/tlog-cosignature Ed25519 cosignature; note.Open still does the
// parsing of the note and the matching of names and key IDs.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

const cosignatureV1 = 0x04

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "notecheck:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) >= 3 && args[0] == "verify":
		return verify(args[1], args[2:])
	case len(args) == 3 && args[0] == "sign":
		return sign(args[1], args[2])
	}
	return errors.New("usage: notecheck verify NOTE-FILE VKEY... | notecheck sign NAME TEXT-FILE")
}

func verify(path string, vkeys []string) error {
	msg, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var verifiers []note.Verifier
	for _, vkey := range vkeys {
		v, err := newVerifier(vkey)
		if err != nil {
			return fmt.Errorf("vkey %q: %v", vkey, err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		return err
	}
	for _, sig := range n.Sigs {
		fmt.Println(sig.Name)
	}
	return nil
}

func sign(name, path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"vkey": vkey, "note": string(msg)})
}

// newVerifier is note.NewVerifier, and a cosignature verifier for type 0x04.
func newVerifier(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) == 0 || key[0] != cosignatureV1 {
		return note.NewVerifier(vkey)
	}
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || len(hash16) != 8 || len(key) != 1+ed25519.PublicKeySize {
		return nil, errors.New("malformed cosignature verifier key")
	}
	// tlog-cosignature, Format: SHA-256(<name> || "\n" || 0x04 || public key)[:4]
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	if uint32(hash) != binary.BigEndian.Uint32(sum[:4]) {
		return nil, errors.New("cosignature verifier key ID does not match its key")
	}
	return &cosigner{name: name, hash: uint32(hash), key: ed25519.PublicKey(key[1:])}, nil
}

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }

// Verify checks a timestamped_signature: a big-endian uint64 timestamp, then
// an Ed25519 signature over "cosignature/v1\ntime <timestamp>\n" and the note
// text (tlog-cosignature, Ed25519 signed message).
func (c *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > 1<<63-1 {
		return false
	}
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	return ed25519.Verify(c.key, signed, sig[8:])
}
