package activities_test

import (
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
)

// Every exported method of *Activities is registered as an activity, so
// each must have an activity's shape; a helper exported by mistake fails here
// instead of at worker start.
func TestActivitiesRegister(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.Activities{})
}
