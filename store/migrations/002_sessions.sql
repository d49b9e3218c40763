-- 002_sessions: relying-party clients, verification sessions, attempts, the
-- per-IIN lockout guard and the callback outbox (packages vidid/rp and
-- vidid/session). Lock order in every transaction that writes here:
-- subject_guards row → sessions rows (by id) → session_attempts rows →
-- rp_callbacks insert → audit_log append (advisory lock) last.

CREATE TABLE rp_clients (
    id                     text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name                   text        NOT NULL CHECK (name <> ''),
    api_key_hash           bytea       NOT NULL CHECK (length(api_key_hash) = 32),
    callback_secret        text        NOT NULL,
    allowed_callback_hosts text[]      NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    disabled_at            timestamptz
);

-- One row per applicant (IIN): the row every attempt decision locks
-- (SELECT … FOR UPDATE), so replicas sharing the database agree on the
-- failure count and the lockout. Times are the database clock.
CREATE TABLE subject_guards (
    iin             text        PRIMARY KEY CHECK (iin ~ '^[0-9]{12}$'),
    failures        integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz,
    locked_until    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Lockout history, for escalation (N lockouts within a window).
CREATE TABLE subject_lockouts (
    id           bigserial   PRIMARY KEY,
    iin          text        NOT NULL REFERENCES subject_guards (iin),
    session_id   uuid        NOT NULL,
    locked_at    timestamptz NOT NULL,
    locked_until timestamptz NOT NULL CHECK (locked_until > locked_at),
    escalated    boolean     NOT NULL DEFAULT false
);
CREATE INDEX subject_lockouts_iin_at ON subject_lockouts (iin, locked_at);

CREATE TABLE sessions (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           text        NOT NULL REFERENCES rp_clients (id),
    iin                 text        NOT NULL REFERENCES subject_guards (iin),
    token_hash          bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    status              text        NOT NULL DEFAULT 'open' CHECK (status IN
                            ('open', 'matched', 'locked', 'moderation', 'expired', 'cancelled', 'approved', 'rejected')),
    requires_moderation boolean     NOT NULL DEFAULT false,
    callback_url        text        NOT NULL,
    return_url          text        NOT NULL,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL CHECK (expires_at > created_at),
    decided_at          timestamptz,
    attempts_started    integer     NOT NULL DEFAULT 0 CHECK (attempts_started >= 0),
    failed_attempts     integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    consent_accepted    boolean,
    consent_lang        text        CHECK (consent_lang IN ('kk', 'ru', 'en')),
    consent_at          timestamptz,
    moderator_id        text,
    moderation_note     text,
    CHECK ((status = 'open') = (decided_at IS NULL))
);
CREATE INDEX sessions_open_expiry ON sessions (expires_at) WHERE status = 'open';
CREATE INDEX sessions_iin ON sessions (iin);
CREATE INDEX sessions_moderation ON sessions (decided_at) WHERE status = 'moderation';

CREATE TABLE session_attempts (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id        uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    n                 integer     NOT NULL CHECK (n > 0),
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    outcome           text        CHECK (outcome IN
                          ('match', 'no_match', 'liveness_failed', 'timeout', 'aborted', 'error')),
    reason            text        CHECK (reason IN
                          ('no_face', 'multiple_faces', 'poor_light', 'blurry', 'too_far', 'pose',
                           'liveness_failed', 'injection_suspected', 'no_match', 'timeout', 'aborted',
                           'register_photo_missing', 'register_photo_unusable', 'challenge_failed')),
    counted           boolean     NOT NULL DEFAULT false,
    liveness_score    double precision,
    match_score       double precision,
    threshold         double precision,
    threshold_version text,
    model             text,
    evidence_ref      text,
    UNIQUE (session_id, n),
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
-- At most one running attempt per session, whatever the code does.
CREATE UNIQUE INDEX session_attempts_one_running ON session_attempts (session_id) WHERE finished_at IS NULL;
CREATE INDEX session_attempts_running ON session_attempts (started_at) WHERE finished_at IS NULL;

-- Outbox of signed callbacks to relying parties (rp.Dispatcher delivers it).
CREATE TABLE rp_callbacks (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL UNIQUE,
    client_id       text        NOT NULL REFERENCES rp_clients (id),
    session_id      uuid,
    event           text        NOT NULL,
    url             text        NOT NULL,
    body            bytea       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_status     integer,
    last_error      text
);
CREATE INDEX rp_callbacks_due ON rp_callbacks (next_attempt_at) WHERE state = 'pending';
CREATE INDEX rp_callbacks_session ON rp_callbacks (session_id);
