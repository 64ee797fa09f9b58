// Command tlogcheck checks our C2SP tiles and RFC 9162 proofs with an
// independent implementation: golang.org/x/mod/sumdb/tlog, the Go checksum
// database's transparency log, on which C2SP tlog-tiles is based.
//
// Usage: tlogcheck TILE_DIR REQUESTS.json
//
// TILE_DIR holds tiles at tile/<L>/<N>[.p/<W>] (C2SP tlog-tiles paths, which
// are Go's tile/8/<L>/<N>[.p/<W>] without the height). REQUESTS.json is a list
// of checkpoints to check, hashes in hex:
//
//	[{"size": 1000, "root": "...",
//	  "inclusion": [{"index": 7, "leaf_hash": "...", "proof": ["...", ...], "entry": "..."}],
//	  "consistency": [{"first": 256, "second": 1000, "first_root": "...", "proof": [...]}],
//	  "records": [{"index": 7, "entry": "..."}]}]
//
// For each checkpoint, tlog reads our tiles through a TileHashReader, which
// authenticates every tile it reads against the claimed root, and checks:
// the tree hash it computes from the tiles is the root; each inclusion proof
// passes CheckRecord and is the proof ProveRecord computes from the tiles
// (and, when the entry's bytes are given, its leaf hash is their
// tlog.RecordHash); each consistency proof passes CheckTree and is
// ProveTree's, with the roots of both sizes being tlog's TreeHash; each
// record's tlog.RecordHash is the leaf hash at its index, read through the
// authenticating reader. One line per check (one for all the records of a
// checkpoint); the exit status is 1 if any check failed, 2 on bad usage or
// input.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

const height = 8 // C2SP tlog-tiles: tiles are subtrees of height 8

type inclusion struct {
	Index    int64    `json:"index"`
	LeafHash string   `json:"leaf_hash"`
	Proof    []string `json:"proof"`
	Entry    *string  `json:"entry"` // the entry's bytes, when given
}

type record struct {
	Index int64  `json:"index"`
	Entry string `json:"entry"`
}

type consistency struct {
	First     int64    `json:"first"`
	Second    int64    `json:"second"`
	FirstRoot string   `json:"first_root"`
	Proof     []string `json:"proof"`
}

type checkpoint struct {
	Size        int64         `json:"size"`
	Root        string        `json:"root"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
	Records     []record      `json:"records"`
}

// tileDir is a tlog.TileReader over files in C2SP layout.
type tileDir string

func (d tileDir) Height() int { return height }

// c2spPath is Go's tile path without the height element: tile/8/L/N -> tile/L/N.
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
}

func (d tileDir) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(c2spPath(t))))
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	return data, nil
}

func (d tileDir) SaveTiles([]tlog.Tile, [][]byte) {}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := parseHash(s)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return hashes, nil
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}

type checker struct{ failed bool }

func (c *checker) report(what string, err error) {
	if err != nil {
		c.failed = true
		fmt.Printf("FAIL %s: %v\n", what, err)
		return
	}
	fmt.Printf("ok   %s\n", what)
}

func (c *checker) checkpoint(dir tileDir, cp checkpoint) {
	root, err := parseHash(cp.Root)
	if err != nil {
		c.report(fmt.Sprintf("tree %d", cp.Size), err)
		return
	}
	reader := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: root}, dir)
	treeHash := func(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, reader) }

	th, err := treeHash(cp.Size)
	if err == nil && th != root {
		err = fmt.Errorf("tlog.TreeHash is %x, we claim %x", th[:], root[:])
	}
	c.report(fmt.Sprintf("tree %d root %x: tlog.TreeHash over our tiles", cp.Size, root[:]), err)

	for _, inc := range cp.Inclusion {
		c.report(fmt.Sprintf("inclusion of %d in %d: tlog.CheckRecord, tlog.ProveRecord", inc.Index, cp.Size),
			checkInclusion(reader, cp.Size, root, inc))
	}
	for _, con := range cp.Consistency {
		c.report(fmt.Sprintf("consistency of %d with %d: tlog.CheckTree, tlog.ProveTree", con.First, con.Second),
			checkConsistency(reader, treeHash, con))
	}
	if len(cp.Records) > 0 {
		c.report(fmt.Sprintf("%d records in %d: tlog.RecordHash, read through the tiles", len(cp.Records), cp.Size),
			checkRecords(reader, cp.Records))
	}
}

// checkRecords: each entry's tlog.RecordHash is the leaf hash the
// authenticated tiles hold at its index.
func checkRecords(reader tlog.HashReader, records []record) error {
	indexes := make([]int64, len(records))
	for i, r := range records {
		indexes[i] = tlog.StoredHashIndex(0, r.Index)
	}
	hashes, err := reader.ReadHashes(indexes)
	if err != nil {
		return fmt.Errorf("ReadHashes: %v", err)
	}
	for i, r := range records {
		if h := tlog.RecordHash([]byte(r.Entry)); h != hashes[i] {
			return fmt.Errorf("record %d: RecordHash is %x, the tree holds %x", r.Index, h[:], hashes[i][:])
		}
	}
	return nil
}

func checkInclusion(reader tlog.HashReader, size int64, root tlog.Hash, inc inclusion) error {
	leaf, err := parseHash(inc.LeafHash)
	if err != nil {
		return err
	}
	proof, err := parseHashes(inc.Proof)
	if err != nil {
		return err
	}
	if inc.Entry != nil {
		if h := tlog.RecordHash([]byte(*inc.Entry)); h != leaf {
			return fmt.Errorf("RecordHash of the entry is %x, the proof is for %x", h[:], leaf[:])
		}
	}
	if err := tlog.CheckRecord(proof, size, root, inc.Index, leaf); err != nil {
		return fmt.Errorf("CheckRecord: %v", err)
	}
	theirs, err := tlog.ProveRecord(size, inc.Index, reader)
	if err != nil {
		return fmt.Errorf("ProveRecord: %v", err)
	}
	if !sameHashes(proof, theirs) {
		return fmt.Errorf("ProveRecord gives %v, we gave %v", theirs, proof)
	}
	return nil
}

func checkConsistency(reader tlog.HashReader, treeHash func(int64) (tlog.Hash, error), con consistency) error {
	firstRoot, err := parseHash(con.FirstRoot)
	if err != nil {
		return err
	}
	proof, err := parseHashes(con.Proof)
	if err != nil {
		return err
	}
	if con.First < 1 || con.First > con.Second {
		return fmt.Errorf("sizes out of order")
	}
	theirFirst, err := treeHash(con.First)
	if err != nil {
		return fmt.Errorf("TreeHash(%d): %v", con.First, err)
	}
	if theirFirst != firstRoot {
		return fmt.Errorf("TreeHash(%d) is %x, we claim %x", con.First, theirFirst[:], firstRoot[:])
	}
	secondRoot, err := treeHash(con.Second)
	if err != nil {
		return fmt.Errorf("TreeHash(%d): %v", con.Second, err)
	}
	if err := tlog.CheckTree(proof, con.Second, secondRoot, con.First, firstRoot); err != nil {
		return fmt.Errorf("CheckTree: %v", err)
	}
	theirs, err := tlog.ProveTree(con.Second, con.First, reader)
	if err != nil {
		return fmt.Errorf("ProveTree: %v", err)
	}
	if !sameHashes(proof, theirs) {
		return fmt.Errorf("ProveTree gives %v, we gave %v", theirs, proof)
	}
	return nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck TILE_DIR REQUESTS.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var checkpoints []checkpoint
	if err := json.Unmarshal(raw, &checkpoints); err != nil {
		fmt.Fprintln(os.Stderr, "requests:", err)
		os.Exit(2)
	}
	c := &checker{}
	for _, cp := range checkpoints {
		c.checkpoint(tileDir(os.Args[1]), cp)
	}
	if c.failed {
		os.Exit(1)
	}
}
