package safety

import "strconv"

// actionSet is a set of Actions as a bit mask.
type actionSet uint8

func actionBit(a Action) actionSet {
	for i, x := range Actions() {
		if x == a {
			return 1 << i
		}
	}
	return 0
}

// newActionSet returns the set of as, or of def when as is empty. An
// unknown action returns an error naming field[i].
func newActionSet(field string, as, def []Action) (actionSet, error) {
	if len(as) == 0 {
		as = def
	}
	var s actionSet
	for i, a := range as {
		if err := a.Validate(); err != nil {
			return 0, invalidf(field+"["+strconv.Itoa(i)+"]", string(a), "must be one of start, stop, terminate, resize, scale_in, scale_out")
		}
		s |= actionBit(a)
	}
	return s, nil
}

func (s actionSet) has(a Action) bool { return s&actionBit(a) != 0 }

// resourceActions are the disruptive actions on one resource: the
// default scope of the backup, dependency and business-hours rules.
var resourceActions = []Action{ActionStop, ActionTerminate, ActionResize}

// disruptiveActions are every disruptive action.
var disruptiveActions = []Action{ActionStop, ActionTerminate, ActionResize, ActionScaleIn}

// pass is the result of a rule that does not apply.
var pass = Result{Outcome: Pass, Risk: RiskNone}
