// Command vidid is the remote biometric video identification engine: one
// binary with subcommands for serving, the reference CA, the register,
// one-off comparisons, migrations, benchmarks and audits. Run `vidid help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // --moderation-tz works without the system's zoneinfo
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func addCommand(c command) { commands = append(commands, c) }

// errUsage marks an error caused by the command line; main exits with 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "vidid", version)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "vidid %s: %v\nRun 'vidid %s --help' for usage.\n", c.name, err, c.name)
				return 2
			default:
				if !errors.Is(err, errSilent) {
					fmt.Fprintf(stderr, "vidid %s: %v\n", c.name, err)
				}
				var ec interface{ ExitCode() int }
				if errors.As(err, &ec) {
					return ec.ExitCode()
				}
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "vidid: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `vidid — remote biometric video identification for e-signature (EDS) issuance

An applicant records a short selfie video in the browser; vidid checks that a
live person is in front of the camera, matches the face against the photo in
the population register for the applicant's IIN, and on a match issues a
signed, single-use identity assertion that the certificate authority (CA)
consumes to issue the signing key and certificate.

Usage:
  vidid <command> [flags] [arguments]

Commands:
`)
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  version    print the version

Run 'vidid <command> --help' for a command's flags, environment and exit codes.

Environment (flags override):
  VIDID_DATABASE_URL  PostgreSQL URL (make run writes it to var/pg/url)
  VIDID_MODELS        model root (default var/models; 'make models' fills it)
  VIDID_LOG_LEVEL     debug, info (default), warn, error

Exit codes: 0 success; 1 failure; 2 bad command line; 3 no match (compare,
verify); 4 no usable face or bad input (compare, verify).
`)
}

// newFlags makes a FlagSet whose --help prints a man-page style text.
func newFlags(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "NAME\n  vidid %s\n\nSYNOPSIS\n  vidid %s\n\nDESCRIPTION\n", name, synopsis)
		for _, l := range strings.Split(strings.TrimSpace(description), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
		fmt.Fprint(w, "\nFLAGS\n")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping a bad flag to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
func (e exitError) ExitCode() int { return e.code }
