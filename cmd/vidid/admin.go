package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"vidid/audit"
	"vidid/rp"
)

func init() {
	addCommand(command{name: "client", summary: "relying-party API clients: create", run: runClient})
	addCommand(command{name: "audit", summary: "verify the hash-chained audit log", run: runAudit})
}

type stringList []string

func (h *stringList) String() string     { return strings.Join(*h, ",") }
func (h *stringList) Set(v string) error { *h = append(*h, v); return nil }

var _ flag.Value = (*stringList)(nil)

func runClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("client", "client create NAME --callback-host HOST [--callback-host HOST …] [--scope analyst]", `
Creates a relying-party API client and prints its API key and callback
secret ONCE (only hashes of the key are stored; the callback secret signs the
decision callbacks, header Vidid-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"t.body">). Callback and return URLs of its sessions must be https on one of
the given hosts (http is allowed for loopback hosts only).

--scope analyst lets the client's /v1/verify calls see the score, the
threshold and why a comparison could not be made (an unknown IIN, an
unusable register photo). Without it /v1/verify answers match or no match
only, so it tells nobody which IINs are registered or how close a face
came. Every /v1/verify call is recorded in the audit log.`, stderr)
	var hosts stringList
	fs.Var(&hosts, "callback-host", "allowed `host[:port]` for callback and return URLs (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	var scopes stringList
	fs.Var(&scopes, "scope", "a `scope` beyond the default (repeatable): analyst")
	var db dbFlags
	db.add(fs)
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return parse(fs, args)
		}
		return fmt.Errorf("%w: want 'client create NAME'", errUsage)
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("%w: client create needs a NAME", errUsage)
	}
	name := args[1]
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	if len(hosts) == 0 {
		return fmt.Errorf("%w: at least one --callback-host is required", errUsage)
	}
	pool, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	clients := rp.NewClients(pool)
	for _, sc := range scopes {
		if !slices.Contains(rp.Scopes, sc) {
			return fmt.Errorf("%w: unknown --scope %q (known: %s)", errUsage, sc, strings.Join(rp.Scopes, ", "))
		}
	}
	id, key, secret, err := clients.Create(ctx, name, hosts)
	if err != nil {
		return err
	}
	if len(scopes) > 0 {
		if err := clients.SetScopes(ctx, id, scopes); err != nil {
			_ = clients.Disable(ctx, id) // not half-made: a client without its scopes is taken back
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"client_id": id, "api_key": key, "callback_secret": secret})
	}
	fmt.Fprintf(stdout, "client id        %s\napi key          %s\ncallback secret  %s\n\nStore both secrets now: they are not shown again.\n", id, key, secret)
	return nil
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit", "audit verify [--db URL] [--anchor SEQ:HASH]... [--anchors FILE]", `
Re-computes the hash chain of the audit log (every attempt result, lockout,
session decision, assertion issued and consumed, certificate issued) and
reports the first record that was edited, deleted, reordered or inserted.

The chain alone cannot show records removed from its end. It prints its
head as an anchor, SEQ:HASH: publish that outside the database (a daily
e-mail to the auditors, a transparency log, a signed file), and pass the
published anchors back with --anchor or --anchors FILE (one per line, '#'
comments). Each must still be in the log with the same hash; a missing one
means the tail was cut, a different hash that history was rewritten.

Exit status: 0 intact, 1 tampered or unreadable.`, stderr)
	var db dbFlags
	db.add(fs)
	var anchors []audit.Anchor
	fs.Func("anchor", "a published head `SEQ:HASH` that must still be in the log (repeatable)", func(v string) error {
		a, err := audit.ParseAnchor(v)
		if err == nil {
			anchors = append(anchors, a)
		}
		return err
	})
	anchorFile := fs.String("anchors", "", "`file` of published heads, one SEQ:HASH per line")
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return parse(fs, args)
		}
		return fmt.Errorf("%w: want 'audit verify'", errUsage)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *anchorFile != "" {
		more, err := readAnchors(*anchorFile)
		if err != nil {
			return exitError{2, err}
		}
		anchors = append(anchors, more...)
	}
	pool, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := audit.Verify(ctx, pool, anchors...)
	if err != nil && !errors.Is(err, audit.ErrTampered) {
		return err
	}
	if !rep.Intact {
		fmt.Fprintf(stdout, "TAMPERED: %d records read; first bad record seq %d: %s\n", rep.Records, rep.FirstBadSeq, rep.Problem)
		return exitError{1, errSilent}
	}
	fmt.Fprintf(stdout, "intact: %d records, %d anchors checked; head (publish it): %s\n", rep.Records, len(anchors), audit.Anchor{Seq: rep.LastSeq, Hash: rep.Head})
	return nil
}

// readAnchors reads one SEQ:HASH per line; blank lines and '#' comments are
// skipped.
func readAnchors(path string) ([]audit.Anchor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read anchors: %w", err)
	}
	var out []audit.Anchor
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := audit.ParseAnchor(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, a)
	}
	return out, nil
}
