// Package apiserver is a build recipe, not code: its module pins
// k8s.io/kubernetes and the staging modules it needs, so that
// `make kube-apiserver` can build the API server that
// github.com/idlescale/idlescale/internal/kubetest starts in tests. The
// import that pins it is in tools.go, behind the "tools" build tag; this
// file keeps the package visible to `go vet ./...` and `go doc`.
package apiserver
