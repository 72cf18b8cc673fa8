package trace_test

import (
	"fmt"
	"strings"

	"github.com/idlescale/idlescale/trace"
)

func ExampleReadCSV() {
	// A monitoring export: CPU in percent, one row per five minutes, with
	// one missing value (a gap) and a row flagged as maintenance.
	const export = `time,cpu_percent,maintenance
2026-03-02 09:00:00,12.5,0
2026-03-02 09:05:00,,0
2026-03-02 09:10:00,97,1
2026-03-02 09:15:00,8,0
`
	samples, err := trace.ReadCSV(strings.NewReader(export), trace.CSVOptions{
		TimeColumn:  "time",
		ValueColumn: "cpu_percent",
		Scale:       0.01, // percent to fraction
		SkipRow:     func(field func(string) string) bool { return field("maintenance") == "1" },
	})
	if err != nil {
		panic(err)
	}
	for _, s := range samples {
		fmt.Println(s.Time.Format("15:04"), s.Value)
	}
	// Output:
	// 09:00 0.125
	// 09:15 0.08
}

func ExampleReadCSVFile() {
	// A real, idle EC2 instance from the Numenta Anomaly Benchmark: two
	// weeks of CPU in percent, every five minutes.
	cpu, err := trace.ReadCSVFile("../testdata/nab/ec2_cpu_utilization_c6585a.csv", trace.CSVOptions{Scale: 0.01})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(cpu), "samples from", cpu[0].Time.Format("2006-01-02 15:04"), "to", cpu[len(cpu)-1].Time.Format("2006-01-02 15:04"))
	// Output:
	// 4032 samples from 2014-04-02 14:29 to 2014-04-16 14:24
}
