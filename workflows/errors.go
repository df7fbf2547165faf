package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

func asAlreadyStarted(err error, target **temporal.ChildWorkflowExecutionAlreadyStartedError) bool {
	return errors.As(err, target)
}
