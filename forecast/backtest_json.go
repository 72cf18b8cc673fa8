package forecast

import (
	"encoding/json"
	"math"
)

// jsonFloat is a float64 that JSON writes as null when it is NaN or ±Inf
// (JSON has no such numbers) and reads back from null as NaN.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if v := float64(f); math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(data, (*float64)(f))
}

func toJSONFloats(v []float64) []jsonFloat {
	if v == nil {
		return nil
	}
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

func fromJSONFloats(v []jsonFloat) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// originJSON is OriginResult with nullable scores.
type originJSON struct {
	Origin  int         `json:"origin"`
	Steps   int         `json:"steps"`
	Scale   jsonFloat   `json:"scale"`
	MASE    jsonFloat   `json:"mase"`
	SMAPE   jsonFloat   `json:"smape"`
	RMSE    jsonFloat   `json:"rmse"`
	Pinball []jsonFloat `json:"pinball,omitempty"`
	Below   []int       `json:"below,omitempty"`
}

// MarshalJSON writes r with its undefined scores (NaN or ±Inf: MASE and
// Pinball when Scale is 0 or NaN) as null.
func (r OriginResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(originJSON{
		Origin: r.Origin, Steps: r.Steps, Scale: jsonFloat(r.Scale),
		MASE: jsonFloat(r.MASE), SMAPE: jsonFloat(r.SMAPE), RMSE: jsonFloat(r.RMSE),
		Pinball: toJSONFloats(r.Pinball), Below: r.Below,
	})
}

// UnmarshalJSON reads what MarshalJSON writes; a null score is NaN.
func (r *OriginResult) UnmarshalJSON(data []byte) error {
	var j originJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = OriginResult{
		Origin: j.Origin, Steps: j.Steps, Scale: float64(j.Scale),
		MASE: float64(j.MASE), SMAPE: float64(j.SMAPE), RMSE: float64(j.RMSE),
		Pinball: fromJSONFloats(j.Pinball), Below: j.Below,
	}
	return nil
}

// resultJSON is BacktestResult with nullable scores.
type resultJSON struct {
	Origins  []OriginResult `json:"origins"`
	Skipped  int            `json:"skipped"`
	MASE     jsonFloat      `json:"mase"`
	SMAPE    jsonFloat      `json:"smape"`
	RMSE     jsonFloat      `json:"rmse"`
	Pinball  []jsonFloat    `json:"pinball,omitempty"`
	Coverage []jsonFloat    `json:"coverage,omitempty"`
}

// MarshalJSON writes r with its undefined scores (NaN or ±Inf, when an
// origin's MASE scale is 0) as null.
func (r BacktestResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{
		Origins: r.Origins, Skipped: r.Skipped,
		MASE: jsonFloat(r.MASE), SMAPE: jsonFloat(r.SMAPE), RMSE: jsonFloat(r.RMSE),
		Pinball: toJSONFloats(r.Pinball), Coverage: toJSONFloats(r.Coverage),
	})
}

// UnmarshalJSON reads what MarshalJSON writes; a null score is NaN.
func (r *BacktestResult) UnmarshalJSON(data []byte) error {
	var j resultJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = BacktestResult{
		Origins: j.Origins, Skipped: j.Skipped,
		MASE: float64(j.MASE), SMAPE: float64(j.SMAPE), RMSE: float64(j.RMSE),
		Pinball: fromJSONFloats(j.Pinball), Coverage: fromJSONFloats(j.Coverage),
	}
	return nil
}
