package contentscan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/contentscan"
)

// BenchmarkPeopleStream checks a long notice against a list streamed past
// it, per person: what a broadcast's preparation costs per listed person
// (seed 004: 13,011; seed 002: 7.6 million).
func BenchmarkPeopleStream(b *testing.B) {
	notice := strings.Repeat("2026年11月12日、弊社が送信したメールマガジンにおいて、13,011名様のメールアドレスが表示される状態となっておりました。深くお詫び申し上げます。お問い合わせ: privacy@example.co.jp / 0120-123-456\n", 20)
	t := contentscan.IndexText(contentscan.Part{Name: "text", Text: notice})
	people := make([]contentscan.Person, 1000)
	for k := range people {
		people[k] = contentscan.Person{Name: fmt.Sprintf("山田 太郎%d", k), Kana: "ヤマダ タロウ", Email: fmt.Sprintf("c%07d@notice.example.jp", k),
			Phone: fmt.Sprintf("090-%04d-%04d", k/10000, k%10000), Address: fmt.Sprintf("東京都新宿区西新宿%d-8-1", k)}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if f := t.Find(people[i%len(people)]); len(f) != 0 {
			b.Fatal(f)
		}
	}
}

// BenchmarkIndexText indexes a long notice (once per broadcast).
func BenchmarkIndexText(b *testing.B) {
	notice := strings.Repeat("2026年11月12日、弊社が送信したメールマガジンにおいて、13,011名様のメールアドレスが表示される状態となっておりました。\n", 40)
	for b.Loop() {
		contentscan.IndexText(contentscan.Part{Name: "text", Text: notice})
	}
}
