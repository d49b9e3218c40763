package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/moderation"
)

func init() {
	addCommand(command{name: "moderator", summary: "moderator accounts: add, list, disable", run: runModerator})
}

func runModerator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("moderator", "moderator add --name NAME [--token-file FILE] | list | disable ID | decisions [--since DATE] [--csv FILE]", `
Manages the accounts of the people who decide the moderation queue
(sessions whose face match was just under the threshold, whose register
photo is unusable, or whose applicant was locked out repeatedly). They
sign in at /moderation with an access token.

  add --name NAME   creates an account and prints its access token ONCE
                    (only its hash is stored; a lost token means disabling
                    the account and adding a new one). With --token-file
                    the token is written to that file (mode 0600) instead;
                    a file whose token still signs in is left alone (the
                    command then does nothing, so scripts may run it every
                    time), a stale one is replaced.
  list              lists the accounts (id, name, created, disabled).
  disable ID        stops an account from signing in; cases it had open
                    return to the queue at once.
  decisions         the decided cases for analysts, as CSV (stdout, or
                    --csv FILE written atomically): when each entered the
                    queue and was decided, whether on time, why it was
                    there, the decision and rejection code, the moderator
                    id (and the first approver's, under the four-eyes
                    rule), and the engine's best match, liveness and
                    same-person scores with the threshold and model. No
                    IIN, name or note. A summary goes to stderr. Approved
                    near-threshold cases are genuine applicants the engine
                    turned away: with the scores they show what the
                    threshold and --moderation-band cost.

Creating and disabling accounts are recorded in the audit log.`, stderr)
	name := fs.String("name", "", "the moderator's full `name`, shown in the queue and kept with each decision")
	tokenFile := fs.String("token-file", "", "write the new token to this `file` instead of printing it")
	asJSON := fs.Bool("json", false, "print JSON")
	since := fs.String("since", "", "decisions: only those decided on or after this `date` (YYYY-MM-DD, UTC)")
	csvFile := fs.String("csv", "", "decisions: write the CSV to this `file` instead of stdout")
	zone := fs.String("moderation-tz", "Asia/Almaty", "decisions: the `zone` the one-working-day deadline is counted in (as serve)")
	holidays := fs.String("moderation-holidays", "", "decisions: extra days off, as serve --moderation-holidays")
	var db dbFlags
	var sec secretFlags
	db.add(fs)
	sec.add(fs)
	if len(args) == 0 {
		return fmt.Errorf("%w: want 'moderator add|list|disable'", errUsage)
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" {
		return parse(fs, args)
	}
	var id string
	if sub == "disable" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return fmt.Errorf("%w: moderator disable needs an ID (see 'vidid moderator list')", errUsage)
		}
		id, rest = rest[0], rest[1:]
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
	}
	switch sub {
	case "add":
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("%w: moderator add needs --name", errUsage)
		}
	case "list", "disable":
	case "decisions":
		if *since != "" {
			if _, err := time.Parse("2006-01-02", *since); err != nil {
				return fmt.Errorf("%w: --since %q is not YYYY-MM-DD", errUsage, *since)
			}
		}
	default:
		return fmt.Errorf("%w: unknown subcommand %q (add, list, disable, decisions)", errUsage, sub)
	}

	pool, err := db.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	auditLog, err := openAuditLog(sec.dir, sec.create)
	if err != nil {
		return err
	}
	mods := moderation.NewModerators(pool, auditLog)
	switch sub {
	case "decisions":
		return writeDecisions(ctx, pool, *since, *csvFile, *zone, *holidays, stdout, stderr)
	case "add":
		if *tokenFile != "" {
			// A token file that still signs in is left alone, so scripts
			// may run this every time; a stale one (say, after the
			// database was reset) is replaced.
			if b, err := os.ReadFile(*tokenFile); err == nil {
				if m, err := mods.Authenticate(ctx, strings.TrimSpace(string(b))); err == nil {
					fmt.Fprintf(stdout, "moderator %s (%s) already has the token in %s; nothing to do\n", m.ID, m.Name, *tokenFile)
					return nil
				}
			}
		}
		m, token, err := mods.Create(ctx, *name)
		if err != nil {
			return err
		}
		if *tokenFile != "" {
			if err := writeSecretFile(*tokenFile, token); err != nil {
				// The account exists but its token is lost: take it back.
				_ = mods.Disable(ctx, m.ID)
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(map[string]string{"id": m.ID, "name": m.Name, "token_file": *tokenFile})
			}
			fmt.Fprintf(stdout, "moderator %s (%s) added; token written to %s\n", m.ID, m.Name, *tokenFile)
			return nil
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]string{"id": m.ID, "name": m.Name, "token": token})
		}
		fmt.Fprintf(stdout, "moderator id  %s\nname          %s\naccess token  %s\n\nGive the token to the moderator now: it is not shown again. They sign in at /moderation.\n", m.ID, m.Name, token)
		return nil
	case "disable":
		if err := mods.Disable(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moderator %s disabled\n", id)
		return nil
	}
	list, err := mods.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tSTATE")
	for _, m := range list {
		state := "active"
		if m.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Name, m.CreatedAt.UTC().Format("2006-01-02 15:04"), state)
	}
	return tw.Flush()
}

// writeSecretFile writes s to path, readable by its owner only (the
// temporary file writeFileAtomic renames into place is created 0600).
func writeSecretFile(path, s string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return writeFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, s+"\n"); return err })
}

func writeDecisions(ctx context.Context, pool *pgxpool.Pool, since, file, zone, holidays string, stdout, stderr io.Writer) error {
	cal, err := moderationCalendar(zone, holidays)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var from time.Time
	if since != "" {
		from, _ = time.Parse("2006-01-02", since)
	}
	recs, err := moderation.Decisions(ctx, pool, cal, from)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := moderation.WriteDecisionsCSV(&buf, recs); err != nil {
		return err
	}
	if file == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFileAtomic(file, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return err
	}
	type count struct{ approved, rejected int }
	byWhy := map[string]*count{}
	onTime := 0
	for _, r := range recs {
		c := byWhy[r.Why]
		if c == nil {
			c = &count{}
			byWhy[r.Why] = c
		}
		if r.Approved {
			c.approved++
		} else {
			c.rejected++
		}
		if r.OnTime {
			onTime++
		}
	}
	fmt.Fprintf(stderr, "%d decisions", len(recs))
	if len(recs) > 0 {
		fmt.Fprintf(stderr, ", %d (%.0f%%) within one working day", onTime, 100*float64(onTime)/float64(len(recs)))
	}
	fmt.Fprintln(stderr)
	for _, w := range []string{moderation.WhyNearThreshold, moderation.WhyRegisterPhoto, moderation.WhyRepeatedLockouts, moderation.WhyOther} {
		if c := byWhy[w]; c != nil {
			fmt.Fprintf(stderr, "  %-18s approved %d, rejected %d\n", w, c.approved, c.rejected)
		}
	}
	return nil
}
