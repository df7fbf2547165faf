package workflows

import "go.temporal.io/sdk/worker"

// Register registers every breachflow workflow on a worker or replayer.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(Incident)
	r.RegisterWorkflow(Recall)
	r.RegisterWorkflow(Obligation)
	r.RegisterWorkflow(Broadcast)
	r.RegisterWorkflow(BrokerDemand)
}
