package rp

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/internal/apikey"
)

// Callback is one notification to a relying party.
type Callback struct {
	ClientID  string
	SessionID string
	// URL was checked with Client.CheckURL when the session was created.
	URL string
	// Event names what happened, e.g. "session.decided".
	Event string
	// Data is marshalled with encoding/json into the envelope's "data".
	Data any
}

// Envelope is the JSON body POSTed to a callback URL.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	SessionID string          `json:"session_id,omitempty"`
	Created   time.Time       `json:"created"`
	Data      json.RawMessage `json:"data"`
}

// Enqueue writes c to the outbox inside tx, so the callback exists if and
// only if the decision it reports commits. It returns the event id.
func Enqueue(ctx context.Context, tx pgx.Tx, c Callback) (string, error) {
	if c.ClientID == "" || c.URL == "" || c.Event == "" {
		return "", fmt.Errorf("enqueue callback: client, url and event are required")
	}
	data, err := json.Marshal(c.Data)
	if err != nil {
		return "", fmt.Errorf("enqueue callback: marshal data: %w", err)
	}
	var created time.Time
	if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&created); err != nil {
		return "", fmt.Errorf("enqueue callback: %w", err)
	}
	env := Envelope{ID: "evt_" + apikey.RandomHex(16), Type: c.Event, SessionID: c.SessionID, Created: created.UTC().Truncate(time.Millisecond), Data: data}
	body, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("enqueue callback: marshal envelope: %w", err)
	}
	var sessionID *string
	if c.SessionID != "" {
		sessionID = &c.SessionID
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO rp_callbacks (event_id, client_id, session_id, event, url, body, created_at, next_attempt_at)
		VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $7)`,
		env.ID, c.ClientID, sessionID, c.Event, c.URL, body, created)
	if err != nil {
		return "", fmt.Errorf("enqueue callback: %w", err)
	}
	return env.ID, nil
}
