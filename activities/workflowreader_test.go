package activities_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
)

func TestQueryWorkflows(t *testing.T) {
	type progress struct {
		Seq   int    `json:"seq"`
		State string `json:"state"`
	}
	cases := []struct {
		name    string
		status  map[string]any
		failAll error
		ids     []string
		want    []string // each answer's JSON; "" for null
		wantErr string
	}{
		{
			name:   "answers in the request's order, running and completed alike",
			status: map[string]any{"w/R00001": progress{2, "confirmed"}, "w/R00002": progress{1, "requested"}},
			ids:    []string{"w/R00002", "w/R00001"},
			want:   []string{`{"seq":1,"state":"requested"}`, `{"seq":2,"state":"confirmed"}`},
		},
		{
			name:   "a workflow that does not exist answers null",
			status: map[string]any{"w/R00001": progress{1, "requested"}},
			ids:    []string{"w/R00001", "w/R00009"},
			want:   []string{`{"seq":1,"state":"requested"}`, ""},
		},
		{
			name:    "any other failure fails the activity, to be retried",
			failAll: errors.New("frontend unavailable"),
			ids:     []string{"w/R00001"},
			wantErr: "query progress of w/R00001: frontend unavailable",
		},
		{name: "nothing asked, nothing answered", want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			fw := &fakeWorkflows{status: tc.status, failAll: tc.failAll}
			env.RegisterActivity(&activities.WorkflowReader{Workflows: fw, Concurrency: 2})
			v, err := env.ExecuteActivity((&activities.WorkflowReader{}).QueryWorkflows, activities.QueryRequest{WorkflowIDs: tc.ids, Query: "progress"})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var res activities.QueryResult
			require.NoError(t, v.Get(&res))
			got := make([]string, len(res.Answers))
			for k, a := range res.Answers {
				if len(a) > 0 && string(a) != "null" {
					got[k] = string(a)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}
