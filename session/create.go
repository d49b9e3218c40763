package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"vidid/audit"
	"vidid/idnum"
	"vidid/rp"
)

// Create opens a session. It refuses with a *LockedError while the IIN is
// locked out, and flags the session RequiresModeration after repeated
// lockouts (see Config.EscalateAfterLockouts). It returns the session and
// the capture token; only the token's hash is stored.
func (p *PG) Create(ctx context.Context, req CreateRequest) (Session, string, error) {
	if err := idnum.ValidateIIN(req.IIN); err != nil {
		return Session{}, "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = p.cfg.DefaultTTL
	}
	if ttl < time.Minute || ttl > p.cfg.MaxTTL {
		return Session{}, "", fmt.Errorf("%w: ttl %v not in [1m, %v]", ErrInvalidRequest, req.TTL, p.cfg.MaxTTL)
	}
	token, hash := newToken()
	var out Session
	err := p.inSubject(ctx, req.IIN, true, func(ctx context.Context, st *txState) error {
		client, err := rp.LoadClient(ctx, st.tx, req.ClientID)
		if err != nil {
			if errors.Is(err, rp.ErrNotFound) {
				return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
			}
			return err
		}
		if client.Disabled {
			return fmt.Errorf("%w: client %s is disabled", ErrInvalidRequest, client.ID)
		}
		if _, err := client.CheckURL(req.CallbackURL); err != nil {
			return fmt.Errorf("%w: callback url: %w", ErrInvalidRequest, err)
		}
		if _, err := client.CheckURL(req.ReturnURL); err != nil {
			return fmt.Errorf("%w: return url: %w", ErrInvalidRequest, err)
		}
		if until, ok := st.g.locked(st.now); ok {
			return &LockedError{Until: until}
		}
		moderate := false
		if p.cfg.EscalateAfterLockouts > 0 && p.cfg.EscalationLockout == 0 {
			n, err := st.recentLockouts(ctx)
			if err != nil {
				return err
			}
			moderate = n >= p.cfg.EscalateAfterLockouts
		}
		var id string
		err = st.tx.QueryRow(ctx, `
			INSERT INTO sessions (client_id, iin, token_hash, requires_moderation, callback_url, return_url, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
			client.ID, req.IIN, hash, moderate, req.CallbackURL, req.ReturnURL, st.now, st.now.Add(ttl)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		st.queueAudit(audit.Entry{Kind: audit.KindSessionCreated, SessionID: id, Subject: req.IIN, Data: map[string]any{
			"client_id": client.ID, "ttl_seconds": int64(ttl / time.Second), "requires_moderation": moderate,
		}})
		st.afterCommit(func() {
			p.m.created.Inc()
			p.log.InfoContext(ctx, "session created", "session_id", id, "client_id", client.ID,
				"iin", idnum.MaskIIN(req.IIN), "requires_moderation", moderate)
		})
		out, err = p.loadView(ctx, st.tx, "s.id = $1::uuid", id)
		return err
	})
	if err != nil {
		return Session{}, "", err
	}
	return out, token, nil
}

// RecordConsent records the applicant's answer to the consent text shown
// in lang (kk, ru or en). Capture needs an accepted consent; a declined one
// can be changed while the session is open.
func (p *PG) RecordConsent(ctx context.Context, token, lang string, accepted bool) error {
	switch lang {
	case "kk", "ru", "en":
	default:
		return fmt.Errorf("%w: language %q is not kk, ru or en", ErrInvalidRequest, lang)
	}
	h, ok := hashToken(token)
	if !ok {
		return ErrNotFound
	}
	id, iin, err := p.subjectOf(ctx, "token_hash = $1", h)
	if err != nil {
		return err
	}
	return p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, id)
		if err != nil {
			return err
		}
		if err := st.requireOpen(ctx, s); err != nil {
			return err
		}
		if _, err := st.tx.Exec(ctx, `
			UPDATE sessions SET consent_accepted = $2, consent_lang = $3, consent_at = $4 WHERE id = $1::uuid`,
			id, accepted, lang, st.now); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		st.queueAudit(audit.Entry{Kind: audit.KindConsent, SessionID: id, Subject: iin,
			Data: map[string]any{"lang": lang, "accepted": accepted}})
		return nil
	})
}
