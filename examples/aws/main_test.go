package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/mototest"
	"github.com/idlescale/idlescale/provider"
)

// TestScanAgainstMoto runs the command as a user would against moto: seed
// the demo instances, scan, and find the idle trace idle and the saturated
// one busy.
func TestScanAgainstMoto(t *testing.T) {
	t.Parallel()
	srv, err := mototest.Start(t.Context())
	require.NoError(t, err, "the example's test needs a real moto_server")
	t.Cleanup(srv.Close)
	env := map[string]string{EndpointEnv: srv.URL, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-seed", "-region", "eu-central-1"}, func(k string) string { return env[k] }, &out))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "dry run: 2 resources in eu-central-1")
	var idleLine, busyLine string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.Contains(line, "reporting-batch"):
			idleLine = line
		case strings.Contains(line, "checkout-api"):
			busyLine = line
		}
	}
	assert.Contains(t, idleLine, " idle ")
	assert.Contains(t, busyLine, "not_idle")
	assert.Contains(t, text, "1 idle of 2 judged")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	_, err := parse([]string{"-seed"}, none)
	require.ErrorContains(t, err, "needs -endpoint")
	_, err = parse([]string{"-history", "1m", "-step", "5m"}, none)
	require.ErrorContains(t, err, "-history")
	_, err = parse([]string{"-execute"}, none)
	require.ErrorContains(t, err, "needs -scale")
	_, err = parse([]string{"-scale"}, none)
	require.ErrorContains(t, err, "-scale needs -policy")
	o, err := parse(nil, func(k string) string {
		if k == EndpointEnv {
			return "http://127.0.0.1:1"
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1", o.endpoint, "the endpoint comes from the environment")
}

// TestHelpListsTheFlags: -h (and a flag misspelt) says which flags there
// are, as a Go command's -h does. It said only "aws: flag: help
// requested", so that the README's -endpoint, -seed, -scale and -execute
// could not be found from the command.
func TestHelpListsTheFlags(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	for _, args := range [][]string{{"-h"}, {"-endpiont", "http://127.0.0.1:5000"}} {
		_, err := parse(args, none)
		require.Error(t, err, "%v", args)
		for _, name := range []string{"-endpoint", "-seed", "-scale", "-execute", "-policy"} {
			assert.Contains(t, err.Error(), name, "%v", args)
		}
	}
	// -h asked for the flags: they go to stdout and the command succeeds;
	// a misspelt flag is an error (it exited 1 for both).
	var stdout, stderr bytes.Buffer
	_, err := parse([]string{"-h"}, none)
	assert.Equal(t, 0, exitCode(err, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "-endpoint")
	assert.Empty(t, stderr.String())
	stdout.Reset()
	_, err = parse([]string{"-endpiont", "x"}, none)
	assert.Equal(t, 1, exitCode(err, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "-endpoint")
	assert.Empty(t, stdout.String())
	assert.Equal(t, 0, exitCode(nil, &stdout, &stderr))
}

// TestScaleAgainstMoto runs the scaling half against moto: a dry run
// first (the gate is asked, nothing changes), then with -execute: the hot
// group goes from 2 to 3 instances and the function's timeout from 300 s
// to what its durations need, each verified.
func TestScaleAgainstMoto(t *testing.T) {
	t.Parallel()
	srv, err := mototest.Start(t.Context())
	require.NoError(t, err, "the example's test needs a real moto_server")
	t.Cleanup(srv.Close)
	env := map[string]string{EndpointEnv: srv.URL, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
	getenv := func(k string) string { return env[k] }

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-seed", "-scale", "-region", "eu-central-1"}, getenv, &out))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "scaling: 2 targets — dry run")
	assert.Contains(t, text, "24h0m0s — nothing will be changed\n")
	assert.Regexp(t, `checkout-web\s+hpa\s+2\s+3\s+3\s+previewed`, text)
	assert.Regexp(t, `thumbnailer\s+vertical\s+1024 MiB/5m0s\s+1024 MiB/4s\s+1024 MiB/4s\s+previewed`, text)
	assert.NotContains(t, text, " now: ", "a dry run reads nothing back: it changed nothing")

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"-seed", "-scale", "-execute", "-region", "eu-central-1"}, getenv, &out))
	text = out.String()
	t.Log(text)
	assert.Contains(t, text, "scaling: 2 targets — executing")
	assert.Contains(t, text, "24h0m0s — the scan changes nothing; the scaling below carries out its plans\n")
	assert.NotContains(t, text, "nothing will be changed", "it changes the group and the function")
	assert.Regexp(t, `checkout-web\s+hpa\s+2\s+3\s+3\s+completed`, text)
	assert.Regexp(t, `thumbnailer\s+vertical\s+1024 MiB/5m0s\s+1024 MiB/4s\s+1024 MiB/4s\s+completed`, text)
	assert.Contains(t, text, "checkout-web now: desired 3, 3 in service")
	assert.Contains(t, text, "thumbnailer now: 1024 MiB, timeout 4s")
}

// failingGetter names i-1 "web" and fails every other lookup.
type failingGetter struct{ err error }

func (f failingGetter) Get(_ context.Context, id string) (provider.Resource, error) {
	if id == "i-1" {
		return provider.Resource{ID: id, Name: "web"}, nil
	}
	return provider.Resource{}, f.err
}

// TestReportSaysWhenANameLookupFails: a verdict whose resource's name
// cannot be read shows "?" as its name, and the error is printed, not
// dropped (the name printed empty, as if the resource had none).
func TestReportSaysWhenANameLookupFails(t *testing.T) {
	t.Parallel()
	denied := errors.New("ec2:DescribeInstances denied")
	report := detector.Report{Resources: 2, Verdicts: []detector.Verdict{
		{ResourceID: "i-1", State: detector.Idle},
		{ResourceID: "i-2", State: detector.NotIdle},
	}}
	var out bytes.Buffer
	require.NoError(t, printReport(t.Context(), &out, failingGetter{err: denied}, report, options{history: 24 * time.Hour}, "eu-central-1"))
	text := out.String()
	t.Log(text)
	lines := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if id, _, ok := strings.Cut(line, " "); ok {
			lines[id] = line
		}
	}
	assert.Regexp(t, `^i-1\s+web\s+idle\s`, lines["i-1"])
	assert.Regexp(t, `^i-2\s+\?\s+not_idle\s`, lines["i-2"])
	assert.Contains(t, text, "name lookups failed: 1 (shown as ?):\n  name of i-2: ec2:DescribeInstances denied\n")
}
