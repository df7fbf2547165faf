package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TestDemoScenarioEndToEnd runs the 53-person demo: one mail and calls until
// everyone answered, with the real SDK clients and a fake engine.
func TestDemoScenarioEndToEnd(t *testing.T) {
	sc, err := LoadScenario("demo")
	require.NoError(t, err)
	e := newFakeEngine(t)
	v := addVoiceEngine(t, e, TwilioAuthToken)
	sb, url := newTestSandbox(t, e, Config{Scenario: sc, TimeScale: 6000})

	var addrs []string
	for i := 1; i <= 53; i++ {
		addrs = append(addrs, fmt.Sprintf("member%02d@example.jp", i))
	}
	resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), addrs...)))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)

	svc := twilioService(url, TwilioAccountSID, TwilioAuthToken)
	call := func(i int) string {
		c, err := svc.CreateCall((&openapi.CreateCallParams{}).SetTo(fmt.Sprintf("+8190000000%02d", i)).SetFrom(TwilioFromNumber).
			SetUrl(fmt.Sprintf("%s/webhooks/twilio/voice/twiml?t=p%02d", e.URL(), i)).
			SetStatusCallback(e.URL() + "/webhooks/twilio/voice/status"))
		require.NoError(t, err)
		return *c.Sid
	}
	final := func(sid string) string {
		st := v.statusesOf(sid)
		if len(st) == 0 {
			return ""
		}
		return st[len(st)-1]
	}
	sids := map[int]string{}
	for i := 1; i <= 53; i++ {
		sids[i] = call(i)
	}
	eventually(t, "first round of calls", func() bool {
		for _, sid := range sids {
			if !terminalCallStatus(final(sid)) {
				return false
			}
		}
		return true
	})
	var retry []int
	for i, sid := range sids {
		if final(sid) != "completed" {
			retry = append(retry, i)
		}
	}
	assert.Equal(t, []int{23}, retry)
	second := call(23)
	eventually(t, "second call to member23", func() bool { return final(second) == "completed" })

	eventually(t, "e-mail personas", func() bool {
		st := sb.Stats()
		gets := 0
		for _, s := range st.Email {
			gets += s.LinkGETs
		}
		return st.EmailTotals.Confirmed == 50 && gets == 51
	})
	sb.Close()

	st := sb.Stats()
	_, posts, errs := e.snapshot()
	assert.Empty(t, errs)
	assert.Len(t, posts, 50)
	for _, tok := range []string{tokenOf(7), tokenOf(19), tokenOf(31)} {
		assert.Zero(t, posts[tok], tok)
	}
	assert.Equal(t, []string{"processed", "bounce"}, e.eventsFor("member19@example.jp"))
	assert.Equal(t, 1, st.Email["member31@example.jp"].LinkGETs)

	v.mu.Lock()
	pressed := 0
	for tok, d := range v.digits {
		if strings.HasPrefix(tok, "p") && len(d) == 1 && d[0] == "1" {
			pressed++
		}
	}
	v.mu.Unlock()
	assert.Equal(t, 53, pressed)
	assert.Equal(t, PhoneStats{Persona: PersonaNoAnswerThenPress1, Calls: 2, Answered: 1, Completed: 1, NoAnswer: 1, Digits: []string{"1"}},
		st.Phone["+819000000023"])
	assert.Zero(t, st.EmailTotals.Duplicates+st.PhoneTotals.CallDuplicates)
}
