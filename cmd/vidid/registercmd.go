package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"vidid/register"
)

func init() {
	addCommand(command{name: "register", summary: "population register: import, seed (demo), list", run: runRegister})
}

func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("register", "register import DIR | seed [--data DIR] [--limit N] | list [--limit N]", `
Maintains the population register that selfies are matched against.

  import DIR   DIR holds manifest.csv (header: iin,surname,given_name,
               patronymic,birth_date,photo) and the photos it names (JPEG
               or PNG). Every row is validated first (IIN checksum, date of
               birth agreeing with the IIN, a decodable photo); one bad row
               means nothing is written. Existing IINs are updated, and
               their cached embeddings dropped.
  seed         a demo register from the public test data: one register
               photo per person under DATA/faces, plus the video subjects
               under DATA/spoof/bonafide (deterministic valid IINs).
  list         IINs and names (no photos).

Photos and cached embeddings are stored sealed (AES-256-GCM) under the
register key, the file register-key in --secrets or VIDID_REGISTER_KEY;
'vidid serve' and 'vidid verify' must use the same key. Photos left in the
clear by an older vidid are sealed when any of these commands starts.
To rotate the key: move the old key to register-key-previous (or
VIDID_REGISTER_KEY_PREVIOUS), put the new one in register-key, and run
'vidid register list': every photo is sealed again under the new key and
cached embeddings under the old one are dropped. Then remove the old key.
Imports, seeds and reseals are recorded in the audit log (audit-subject-key
in --secrets).`, stderr)
	data := fs.String("data", envOr("VIDID_DATA", "../shared/data"), "public test data `dir` (seed)")
	limit := fs.Int("limit", 0, "at most N people (seed, list; 0 = all for seed, 50 for list)")
	var db dbFlags
	db.add(fs)
	var sec secretFlags
	sec.add(fs)
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: missing subcommand", errUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" {
		return parse(fs, args)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	pool, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	repo, err := sec.register(ctx, pool)
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: register import needs one DIR", errUsage)
		}
		n, err := register.Import(ctx, repo, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d citizens\n", n)
	case "seed":
		n, err := register.SeedDemo(ctx, repo, *data, *limit)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "demo register: %d citizens\n", n)
	case "list":
		if *limit == 0 {
			*limit = 50
		}
		cs, err := repo.List(ctx, *limit, 0)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "IIN\tSURNAME\tGIVEN NAME")
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.IIN, c.Surname, c.GivenName)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("%w: unknown subcommand %q (import, seed, list)", errUsage, sub)
	}
	return nil
}
