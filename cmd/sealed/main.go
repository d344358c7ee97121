// Command sealed runs the sealed demo server and manages sealed keys.
//
// Usage:
//
//	sealed <command> [flags] [args]
//
// Run "sealed help" for the list of commands and "sealed <command> -help"
// for a command's flags.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// A command is one subcommand. run gets the arguments after the command
// name and returns the process exit code; errors go to stderr.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand; each lives in its own file.
var commands = map[string]command{
	"demo":    demoCommand,
	"inspect": inspectCommand,
	"keygen":  keygenCommand,
	"rotate":  rotateCommand,
	"seal":    sealCommand,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sealed: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sealed <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'sealed <command> -help' for a command's flags.")
}
