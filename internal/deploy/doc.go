// Package deploy holds no code. It exists for its tests, which check the
// deployment files at the repository root against the code they deploy:
// docker-compose.yml (parsed with compose-go, as docker compose does) must
// register exactly the search attributes of workflows.SearchAttributes, give
// the worker and the front door every setting they need and the same list
// store, and publish the documented ports; the Dockerfile must have a worker
// and a starter target, each shipping the binary built from the package of
// that name.
//
// Run `go test ./internal/deploy/` after editing either file.
package deploy
