package provider

import "github.com/idlescale/idlescale/internal/textnorm"

// NormalizeLabel returns s in the form drivers store a label in
// (Resource.Environment, Role and Owner): Unicode NFKC, so that fullwidth
// letters and a no-break space become their plain forms; format
// characters (zero-width spaces and joiners, soft hyphens, byte-order and
// bidirectional marks) and variation selectors removed; runs of white
// space inside made one space; white space at both ends trimmed. Case is
// kept. Drivers call it once, where a label enters the SDK (a tag, a
// Prometheus label, a fleet file), so that "production " and "production"
// are one environment; Resource.NormalizeLabels applies it to a resource.
func NormalizeLabel(s string) string { return textnorm.Label(s) }

// LabelKey returns the form labels are matched in against a list of names,
// as the safety rules do: NormalizeLabel, then Unicode full case folding,
// then every run of the separators ' ', '-', '_' and '.' written as one
// '_', with none at either end. "Load Balancer", "load-balancer" and
// " LOAD_BALANCER" all give "load_balancer"; "" means the label is empty.
func LabelKey(s string) string { return textnorm.Key(s) }

// NormalizeLabels returns r with NormalizeLabel applied to Environment,
// Role and Owner, and Criticality set to its known level when it names one
// in another case or with white space around it (" High" becomes
// CriticalityHigh; an unknown value is left for Validate to refuse).
func (r Resource) NormalizeLabels() Resource {
	r.Environment = NormalizeLabel(r.Environment)
	r.Role = NormalizeLabel(r.Role)
	r.Owner = NormalizeLabel(r.Owner)
	if r.Criticality != "" {
		if c := Criticality(LabelKey(string(r.Criticality))); c.Validate() == nil {
			r.Criticality = c
		}
	}
	return r
}
