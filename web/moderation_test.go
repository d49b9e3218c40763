package web_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"vidid/i18n"
	"vidid/moderation"
	"vidid/session"
	"vidid/web"
)

// TestModerationDictionaries: the moderator pages' three dictionaries have
// every key the template names, and words
// for every reason and queue code the pages can show.
func TestModerationDictionaries(t *testing.T) {
	dicts, err := i18n.Dicts(i18n.Moderation)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("templates/moderation.html")
	if err != nil {
		t.Fatal(err)
	}
	var need []string
	for _, m := range regexp.MustCompile(`\bt "([a-z_.]+)"`).FindAllSubmatch(tmpl, -1) {
		need = append(need, string(m[1]))
	}
	for _, r := range session.Reasons {
		need = append(need, "reason."+string(r))
	}
	for _, w := range []string{moderation.WhyNearThreshold, moderation.WhyRegisterPhoto, moderation.WhyRepeatedLockouts, moderation.WhyOther} {
		need = append(need, "why."+w)
	}
	for _, n := range []string{"approved", "rejected", "released", "first_approval"} {
		need = append(need, "notice."+n)
	}
	for _, st := range []session.State{session.StateOpen, session.StateMatched, session.StateLocked, session.StateModeration,
		session.StateExpired, session.StateCancelled, session.StateApproved, session.StateRejected} {
		need = append(need, "state."+string(st))
	}
	for _, r := range session.RejectReasons {
		need = append(need, "reject."+r)
	}
	for _, code := range []string{"second_approver", "reason_required", "claimed", "unauthorized", "unknown_case", "not_in_queue", "not_claimed", "note_required", "cross_site", "invalid_request"} {
		need = append(need, "error."+code)
	}
	if len(need) < 60 {
		t.Fatalf("found only %d keys in the template: is the pattern still right?", len(need))
	}
	for lang, d := range dicts {
		for _, k := range need {
			if _, ok := d[k]; !ok {
				t.Errorf("%s: no %q", lang, k)
			}
		}
		for k := range dicts["en"] {
			if _, ok := d[k]; !ok {
				t.Errorf("%s lacks %q, which en has", lang, k)
			}
		}
	}
}

type queueView struct {
	Moderator, ModeratorID, Notice string
	Stats                          moderation.Stats
	Cases                          []moderation.CaseSummary
	Now                            time.Time
}

func TestModerationPageLanguages(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	score := 0.68
	data := queueView{Moderator: "Dana", ModeratorID: "0123456789abcdef", Notice: "approved", Now: now,
		Stats: moderation.Stats{Cases: 1, Overdue: 1, Oldest: now.Add(-50 * time.Hour)},
		Cases: []moderation.CaseSummary{{SessionID: "7e7165f8-1006-4b10-97ab-fb3746fa5413", ClientName: "portal", IINMasked: "85********12",
			EnteredAt: now.Add(-50 * time.Hour), Due: now.Add(-26 * time.Hour), Overdue: true, Why: moderation.WhyNearThreshold,
			Reason: session.ReasonNoMatch, Attempts: 1, BestMatchScore: &score}}}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{`lang="en"`, "Last updated: 3 December 2026, 15:00", "Cases waiting for a decision", "Just under the match threshold", "overdue by 26 h 00 min", "2 d 2 h ago", "Case approved", "0.680"}},
		{"ru", []string{`lang="ru"`, "Обновлено: 3 декабря 2026 г., 15:00", "Заявки, ожидающие решения", "Сходство чуть ниже порога", "просрочено на 26 ч 00 мин", "лицо не совпало", "Заявка одобрена"}},
		{"kk", []string{`lang="kk"`, "Соңғы жаңарту: 2026 жылғы 3 желтоқсан, 15:00", "Шешім күтіп тұрған өтінімдер", "Ұқсастық шектен сәл төмен", "26 сағ 00 мин кешікті", "Өтінім мақұлданды"}},
	} {
		var buf bytes.Buffer
		if err := web.ModerationPage(&buf, web.ModQueuePage, tc.lang, data); err != nil {
			t.Fatalf("%s: %v", tc.lang, err)
		}
		page := buf.String()
		// The queue never reloads itself (WCAG 2.2.1): the moderator refreshes it.
		if strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `<a class="button" id="refresh" href="/moderation">`) {
			t.Errorf("%s: the page reloads itself or offers no Refresh link", tc.lang)
		}
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s page lacks %q", tc.lang, w)
			}
		}
		if strings.Contains(page, `{`) && regexp.MustCompile(`\{[a-z]+\}`).MatchString(page) {
			t.Errorf("%s page has an unfilled placeholder: %s", tc.lang, regexp.MustCompile(`\{[a-z]+\}`).FindString(page))
		}
	}
	if err := web.ModerationPage(io.Discard, web.ModQueuePage, "de", data); !errors.Is(err, web.ErrInvalidPageData) {
		t.Errorf("German: %v, want ErrInvalidPageData", err)
	}
	if err := web.ModerationPage(io.Discard, "nonsense", "en", data); !errors.Is(err, web.ErrInvalidPageData) {
		t.Errorf("unknown page: %v, want ErrInvalidPageData", err)
	}
}

func TestModerationLang(t *testing.T) {
	for _, tc := range []struct {
		wanted []string
		want   string
	}{
		{[]string{"ru"}, "ru"},
		{[]string{"", "kk", "en-US,en;q=0.9"}, "kk"},
		{[]string{"", "", "de-DE,ru-RU;q=0.8,en;q=0.5"}, "ru"},
		{[]string{"xx", "", "kk-KZ"}, "kk"},
		{[]string{"", "", "de"}, "en"},
		{nil, "en"},
	} {
		if got := web.ModerationLang(tc.wanted...); got != tc.want {
			t.Errorf("ModerationLang(%q) = %s, want %s", tc.wanted, got, tc.want)
		}
	}
}
