//go:build tools

// Package apiserver is a build recipe, not code: its module pins
// k8s.io/kubernetes and the staging modules it needs, so that
// `make kube-apiserver` can build the API server that
// github.com/idlescale/idlescale/internal/kubetest starts in tests.
package apiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
