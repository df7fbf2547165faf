package workflows

import (
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes breachflow sets. None of them ever holds personal data:
// search attributes are stored unencrypted by the server.
var (
	// SAIncidentID is set on every workflow of an incident.
	SAIncidentID = temporal.NewSearchAttributeKeyKeyword("BreachIncidentID")
	// SARunbook is the runbook ID of an Incident.
	SARunbook = temporal.NewSearchAttributeKeyKeyword("BreachRunbook")
	// SAPhase is the Incident's current phase.
	SAPhase = temporal.NewSearchAttributeKeyKeyword("BreachPhase")
	// SARecipients is the number of wrong recipients being recalled (on an
	// Incident), or of people a Broadcast notifies.
	SARecipients = temporal.NewSearchAttributeKeyInt64("BreachRecipients")
	// SAConfirmed is the number of recipients whose deletion is confirmed.
	SAConfirmed = temporal.NewSearchAttributeKeyInt64("BreachConfirmed")
	// SAUnreachable is the number of recipients who could not be reached.
	SAUnreachable = temporal.NewSearchAttributeKeyInt64("BreachUnreachable")
	// SARecallState is a Recall workflow's state (pending, requested, ...).
	SARecallState = temporal.NewSearchAttributeKeyKeyword("BreachRecallState")
	// SANextDeadline is the earliest open legal deadline of an Incident,
	// and an Obligation's own deadline (or soft target).
	SANextDeadline = temporal.NewSearchAttributeKeyTime("BreachNextDeadline")
	// SAObligationState is an Obligation workflow's state (pending,
	// drafted, overdue, filed, not_required).
	SAObligationState = temporal.NewSearchAttributeKeyKeyword("BreachObligationState")
	// SABroadcastState is a Broadcast's state (awaiting_approval, sending, ...).
	SABroadcastState = temporal.NewSearchAttributeKeyKeyword("BreachBroadcastState")
	// SABroadcastSent is how many notices a Broadcast has sent. It is a
	// Double because the dev server's SQLite visibility store has only
	// three Int attributes, all taken; counts up to 2^53 are exact.
	SABroadcastSent = temporal.NewSearchAttributeKeyFloat64("BreachSent")
	// SADemandState is a BrokerDemand's state (awaiting_mailing, ...).
	SADemandState = temporal.NewSearchAttributeKeyKeyword("BreachDemandState")
)

// SearchAttributes lists every search attribute with its type, for
// registering them on a cluster (`temporal operator search-attribute create`,
// `temporal server start-dev --search-attribute`, docker-compose).
func SearchAttributes() []SearchAttributeDef {
	return []SearchAttributeDef{
		{SAIncidentID.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SARunbook.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SAPhase.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SARecipients.GetName(), enums.INDEXED_VALUE_TYPE_INT},
		{SAConfirmed.GetName(), enums.INDEXED_VALUE_TYPE_INT},
		{SAUnreachable.GetName(), enums.INDEXED_VALUE_TYPE_INT},
		{SARecallState.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SANextDeadline.GetName(), enums.INDEXED_VALUE_TYPE_DATETIME},
		{SAObligationState.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SABroadcastState.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
		{SABroadcastSent.GetName(), enums.INDEXED_VALUE_TYPE_DOUBLE},
		{SADemandState.GetName(), enums.INDEXED_VALUE_TYPE_KEYWORD},
	}
}

// SearchAttributeDef is a search attribute's name and type.
type SearchAttributeDef struct {
	Name string
	Type enums.IndexedValueType
}

// CLIType is the type name the Temporal CLI accepts (Keyword, Int, ...).
func (d SearchAttributeDef) CLIType() string {
	switch d.Type {
	case enums.INDEXED_VALUE_TYPE_KEYWORD:
		return "Keyword"
	case enums.INDEXED_VALUE_TYPE_INT:
		return "Int"
	case enums.INDEXED_VALUE_TYPE_DATETIME:
		return "Datetime"
	case enums.INDEXED_VALUE_TYPE_BOOL:
		return "Bool"
	case enums.INDEXED_VALUE_TYPE_DOUBLE:
		return "Double"
	case enums.INDEXED_VALUE_TYPE_KEYWORD_LIST:
		return "KeywordList"
	}
	return "Text"
}
