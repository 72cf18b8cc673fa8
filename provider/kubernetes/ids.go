package kubernetes

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// ObjectKind is the kind of Kubernetes object a resource ID names. The
// set is closed; the zero value "" means not set and is refused by
// Validate.
type ObjectKind string

// The object kinds the driver reports.
const (
	ObjectDeployment  ObjectKind = "deployment"  // apps/v1 Deployment: a group
	ObjectStatefulSet ObjectKind = "statefulset" // apps/v1 StatefulSet: a group
	ObjectPod         ObjectKind = "pod"         // v1 Pod: an instance
	// ObjectPersistentVolume is a v1 PersistentVolume: a volume, listed
	// with Config.PersistentVolumes.List. It has no namespace: its ID is
	// persistentvolume/NAME.
	ObjectPersistentVolume ObjectKind = "persistentvolume"
)

// Validate returns a *provider.InvalidError unless k is one of the kinds
// above.
func (k ObjectKind) Validate() error {
	switch k {
	case ObjectDeployment, ObjectStatefulSet, ObjectPod, ObjectPersistentVolume:
		return nil
	}
	return provider.Invalid("object_kind", string(k), "must be one of deployment, statefulset, pod, persistentvolume")
}

// String returns the kind's value, such as "deployment".
func (k ObjectKind) String() string { return string(k) }

// MarshalText returns the kind's value.
func (k ObjectKind) MarshalText() ([]byte, error) { return []byte(k), nil }

// UnmarshalText sets k from text: "" (not set) or a kind Validate accepts;
// any other value is a *provider.InvalidError naming it.
func (k *ObjectKind) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(k, text, ObjectKind.Validate)
}

// Ref identifies one Kubernetes object. Its String form, NAMESPACE/KIND/NAME
// ("shop/deployment/web", "shop/pod/web-5d9c7b6f4-x2k4q"), or KIND/NAME
// for a PersistentVolume, which has no namespace
// ("persistentvolume/pvc-0f4c…"), is the resource ID the driver reports
// and accepts.
type Ref struct {
	// Namespace is the object's namespace; empty for a PersistentVolume.
	Namespace string
	// Kind is the object's kind.
	Kind ObjectKind
	// Name is the object's name.
	Name string
}

// String returns the resource ID NAMESPACE/KIND/NAME, or KIND/NAME for a
// PersistentVolume.
func (r Ref) String() string {
	if r.Kind == ObjectPersistentVolume {
		return string(r.Kind) + "/" + r.Name
	}
	return r.Namespace + "/" + string(r.Kind) + "/" + r.Name
}

// ParseRef parses a resource ID of the form NAMESPACE/KIND/NAME, or
// persistentvolume/NAME. An ID that provider.ValidateID refuses (empty,
// white space) is a *provider.InvalidError; any other ID that is not of
// that form names no object the driver knows and returns ok = false.
func ParseRef(id string) (ref Ref, ok bool, err error) {
	if err := provider.ValidateID(id); err != nil {
		return Ref{}, false, err
	}
	parts := strings.Split(id, "/")
	if len(parts) == 2 && parts[0] == string(ObjectPersistentVolume) {
		if len(validation.IsDNS1123Subdomain(parts[1])) > 0 {
			return Ref{}, false, nil
		}
		return Ref{Kind: ObjectPersistentVolume, Name: parts[1]}, true, nil
	}
	if len(parts) != 3 || parts[1] == string(ObjectPersistentVolume) {
		return Ref{}, false, nil
	}
	ref = Ref{Namespace: parts[0], Kind: ObjectKind(parts[1]), Name: parts[2]}
	if ref.Kind.Validate() != nil || len(validation.IsDNS1123Label(ref.Namespace)) > 0 || len(validation.IsDNS1123Subdomain(ref.Name)) > 0 {
		return Ref{}, false, nil
	}
	return ref, true, nil
}

// notFound returns the error for an ID that names nothing the driver
// knows.
func notFound(op, id, why string) error {
	return fmt.Errorf("kubernetes: %s %q: %w: %s", op, id, provider.ErrNotFound, why)
}

// idFormat is the sentence that says what an ID looks like.
const idFormat = "resource IDs are NAMESPACE/KIND/NAME with KIND deployment, statefulset or pod, or persistentvolume/NAME"
