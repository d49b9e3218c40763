package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"vidid/bench"
	"vidid/policy"
)

func init() {
	addCommand(command{name: "policy", summary: "decision policies: show, list, propose, activate", run: runPolicy})
}

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy", "policy show [VERSION] [--json] | list [--json] | propose (--file FILE | --report REPORT.json --target-fmr F) | activate VERSION --by NAME", `
Manages the decision policy: every threshold that turns an attempt's
measurements into a verdict, versioned in the database. Per embedder model
it holds the match threshold, the moderation band under it and the
same-person bar; per liveness cue whether it is enforced, recorded or off,
its threshold, whether it must be measured, and the reason code it fails
with; and how many frames a verdict needs. 'vidid serve' uses the active
version (seeding the built-in one into an empty database), applies its own
flag overrides as a derived version, logs the version in force, and
reports not ready on /readyz without a valid one. Every attempt records
the version it was judged under and the measurements it was judged on.

  show [VERSION]   prints a version (default: the active one; 'builtin'
                   for the one compiled into this binary). --json prints
                   the policy document itself, the input of propose.
  list             lists the stored versions: status (active, proposed,
                   retired, derived), parent, who wrote and activated it.
  propose          stores a new version, validated (unknown fields
                   refused) and audited, but not used until activated:
                   from --file (JSON, as 'show --json' prints it, with a
                   new "version"), or from a 'vidid bench' report:
                   --report OUT/report.json --target-fmr 1e-4 takes the
                   active policy and sets each embedder's match threshold
                   to the one the report measured for that FMR (faces/,
                   else the pair list), keeping every other field; the
                   version carries its evidence (report, dataset hash,
                   counts, the threshold's 95% interval, the FNMR there).
                   A target the report cannot measure is refused.
  activate VERSION makes VERSION the active one (the previous becomes
                   retired), recorded in the audit log with --by. Running
                   servers pick it up within a minute.

Exit status: 0 done, 2 usage, 1 any other error (an invalid policy, an
unknown version).`, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	file := fs.String("file", "", "propose: the policy `file` (JSON)")
	report := fs.String("report", "", "propose: a 'vidid bench' `report.json` to take the match thresholds from")
	targetFMR := fs.Float64("target-fmr", 1e-4, "propose --report: the false-match rate the thresholds must meet")
	newVersion := fs.String("version", "", "propose --report: the new version's name (default: from the dataset hash and the target)")
	by := fs.String("by", envOr("USER", ""), "propose, activate: who does it (recorded in the audit log)")
	var db dbFlags
	var sec secretFlags
	db.add(fs)
	sec.add(fs)
	if len(args) == 0 {
		return fmt.Errorf("%w: want 'policy show|list|propose|activate'", errUsage)
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" {
		return parse(fs, args)
	}
	var version string
	if (sub == "show" || sub == "activate") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		version, rest = rest[0], rest[1:]
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
	}
	switch sub {
	case "show", "list":
	case "propose":
		if (*file == "") == (*report == "") {
			return fmt.Errorf("%w: policy propose needs --file or --report (one of them)", errUsage)
		}
	case "activate":
		if version == "" {
			return fmt.Errorf("%w: policy activate needs a VERSION (see 'vidid policy list')", errUsage)
		}
	default:
		return fmt.Errorf("%w: unknown subcommand %q (show, list, propose, activate)", errUsage, sub)
	}
	if (sub == "propose" || sub == "activate") && strings.TrimSpace(*by) == "" {
		return fmt.Errorf("%w: policy %s needs --by NAME (who does it, for the audit log)", errUsage, sub)
	}
	if sub == "show" && version == "builtin" {
		return printPolicy(stdout, policy.Builtin(), *asJSON)
	}
	var newPolicy *policy.Policy
	if sub == "propose" && *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		if newPolicy, err = policy.Parse(b); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
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
	st := policy.NewStore(pool, auditLog)
	if _, err := st.Seed(ctx, policy.Builtin(), "vidid policy (seed)"); err != nil {
		return err
	}
	switch sub {
	case "show":
		var p *policy.Policy
		if version == "" {
			p, err = st.Active(ctx)
		} else {
			p, err = st.Get(ctx, version)
		}
		if err != nil {
			return err
		}
		return printPolicy(stdout, p, *asJSON)
	case "list":
		list, err := st.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATUS\tPARENT\tCREATED\tBY\tACTIVATED\tBY")
		for _, i := range list {
			act := "-"
			if !i.ActivatedAt.IsZero() {
				act = i.ActivatedAt.UTC().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i.Version, i.Status, dash(i.Parent), i.CreatedAt.UTC().Format(time.DateTime),
				i.CreatedBy, act, dash(i.ActivatedBy))
		}
		return tw.Flush()
	case "propose":
		if *report != "" {
			r, err := bench.LoadReport(*report)
			if err != nil {
				return err
			}
			act, err := st.Active(ctx)
			if err != nil {
				return err
			}
			if newPolicy, err = bench.ProposePolicy(r, act, bench.ProposeOptions{TargetFMR: *targetFMR, Version: *newVersion, Report: *report}); err != nil {
				return err
			}
		}
		if err := st.Put(ctx, newPolicy, policy.StatusProposed, *by); err != nil {
			if errors.Is(err, policy.ErrExists) {
				return fmt.Errorf("%w (give the new policy a new \"version\")", err)
			}
			return err
		}
		fmt.Fprintf(stdout, "policy %s proposed (digest %s); activate it with: vidid policy activate %s --by NAME\n",
			newPolicy.Version, newPolicy.Digest()[:16], newPolicy.Version)
		if ev := newPolicy.Evidence; ev != nil {
			fmt.Fprintf(stdout, "evidence: dataset %s, %d genuine and %d impostor comparisons, FNMR %.4f at FMR %g, threshold interval [%.4f, %.4f]\n",
				ev.DatasetSHA256, ev.Genuine, ev.Impostor, ev.FNMR, ev.TargetFMR, ev.CI95[0], ev.CI95[1])
		}
		return nil
	default: // activate
		if err := st.Activate(ctx, version, *by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "policy %s is active (recorded in the audit log)\n", version)
		return nil
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printPolicy prints p as JSON (the document) or as a readable summary.
func printPolicy(w io.Writer, p *policy.Policy, asJSON bool) error {
	if asJSON {
		_, err := w.Write(p.MarshalIndent())
		return err
	}
	fmt.Fprintf(w, "policy %s (digest %s)\n", p.Version, p.Digest()[:16])
	if p.Parent != "" {
		fmt.Fprintf(w, "derived from %s\n", p.Parent)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nMODEL\tMATCH\tFMR TARGET\tBAND\tSAME PERSON")
	for _, m := range p.Models {
		fmt.Fprintf(tw, "%s\t%.4f\t%g\t%.4f\t%s\n", m.Model, m.Match, m.FMRTarget, m.ModerationBand, offIfZero(m.SamePerson))
	}
	fmt.Fprintln(tw, "\nCUE\tMODE\tTHRESHOLD\tREQUIRED\tFAILS AS")
	for _, n := range p.CueNames() {
		c := p.Liveness[n]
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%v\t%s\n", n, c.Mode, c.Threshold, c.Required, c.Reason)
	}
	fmt.Fprintf(tw, "\nframes: %d matched (median; at least %d), passive liveness over at least %d\n", p.Frames.Match, p.Frames.MinMatch, p.Frames.MinLiveness)
	return tw.Flush()
}

func offIfZero(x float64) string {
	if x == 0 {
		return "off"
	}
	return fmt.Sprintf("%.4f", x)
}
