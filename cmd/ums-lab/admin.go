package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

func newTokenCmd(s streams, state *stateFlag) *cobra.Command {
	var part int
	cmd := &cobra.Command{
		Use:   "token [--part N]",
		Short: "Print the root certificate fingerprint parts; --part 3 is the communication token",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(_ *cobra.Command, _ []string, st *lab.State) error {
			fp := st.Fingerprint()
			if part != 0 {
				if part < 1 || part > 4 {
					return exitcode.New(exitcode.Usage, "--part must be 1, 2, 3 or 4")
				}
				fmt.Fprintln(s.out, fp.Part(part))
				return nil
			}
			for i, p := range fp.Parts() {
				note := ""
				if i == 2 {
					note = "  (communication token)"
				}
				fmt.Fprintf(s.out, "Root Cert. Fingerprint - Part %d: %s%s\n", i+1, p, note)
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&part, "part", 0, "print only part N (1-4)")
	return cmd
}

func newObsCmd(s streams, state *stateFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "obs", Short: "Onboarding Service: e-mail routing and test sign-in"}
	var domain, email, host string
	var port int
	var signIn bool
	mapCmd := &cobra.Command{
		Use:   "map --domain D | --email E [--host H --port P] [--sign-in=false]",
		Short: "Route an e-mail domain or address to a UMS (default: this lab)",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			m, err := mapping(domain, email)
			if err != nil {
				return err
			}
			if (host == "") != (port == 0) {
				return exitcode.New(exitcode.Usage, "--host and --port go together")
			}
			m.Host, m.Port, m.SignIn = host, port, signIn
			if err := st.Map(cmd.Context(), m); err != nil {
				return exitcode.Wrap(exitcode.Usage, err)
			}
			fmt.Fprintf(s.err, "%s %s mapped (sign-in %v)\n", m.Kind, m.Value, signIn)
			return nil
		}),
	}
	mapCmd.Flags().StringVar(&domain, "domain", "", "e-mail domain")
	mapCmd.Flags().StringVar(&email, "email", "", "e-mail address")
	mapCmd.Flags().StringVar(&host, "host", "", "UMS host (default: the lab as the device reached it)")
	mapCmd.Flags().IntVar(&port, "port", 0, "UMS port")
	mapCmd.Flags().BoolVar(&signIn, "sign-in", true, "require device-flow sign-in before enrollment")

	var udomain, uemail string
	unmapCmd := &cobra.Command{
		Use:   "unmap --domain D | --email E",
		Short: "Remove a route",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			m, err := mapping(udomain, uemail)
			if err != nil {
				return err
			}
			return st.Unmap(cmd.Context(), m.Kind, m.Value)
		}),
	}
	unmapCmd.Flags().StringVar(&udomain, "domain", "", "e-mail domain")
	unmapCmd.Flags().StringVar(&uemail, "email", "", "e-mail address")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List routes",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			ms, err := st.Mappings(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "KIND\tVALUE\tUMS\tSIGN-IN")
			for _, m := range ms {
				ums := "this lab"
				if m.Host != "" {
					ums = fmt.Sprintf("%s:%d", m.Host, m.Port)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", m.Kind, m.Value, ums, m.SignIn)
			}
			return w.Flush()
		}),
	}

	var deny bool
	approveCmd := &cobra.Command{
		Use:   "approve USER_CODE",
		Short: "Sign in a waiting device as the built-in test identity (--deny refuses)",
		Args:  cobra.ExactArgs(1),
		RunE: state.withState(func(cmd *cobra.Command, args []string, st *lab.State) error {
			who, err := st.Decide(cmd.Context(), args[0], !deny)
			if err != nil {
				return err
			}
			if deny {
				fmt.Fprintf(s.err, "sign-in for %s denied\n", who)
			} else {
				fmt.Fprintf(s.err, "signed in as %s\n", who)
			}
			return nil
		}),
	}
	approveCmd.Flags().BoolVar(&deny, "deny", false, "deny the sign-in instead")
	cmd.AddCommand(mapCmd, unmapCmd, listCmd, approveCmd)
	return cmd
}

func mapping(domain, email string) (lab.Mapping, error) {
	switch {
	case (domain == "") == (email == ""):
		return lab.Mapping{}, exitcode.New(exitcode.Usage, "give exactly one of --domain, --email")
	case domain != "":
		return lab.Mapping{Kind: "domain", Value: domain}, nil
	}
	return lab.Mapping{Kind: "email", Value: email}, nil
}
