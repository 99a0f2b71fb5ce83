-- 0001_notifications.sql -- inbox, recipients, acknowledgements, letters, external outbox, daily alert.

-- One notification per (event, kind): a repeat of an event never makes a
-- second one ("shown once"). Inserts are serialised by an advisory lock in
-- store.c, so id order is commit order and the live hub, reading ids in
-- order, never skips one that committed late.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    event_id    text,                     -- the event it came from; NULL when raised by a user or the clock
    kind        text NOT NULL,            -- "episode_reported", "child_found", "daily_alert", ...
    rule        text NOT NULL,            -- "R-EPI-6"
    priority    text NOT NULL DEFAULT 'routine' CHECK (priority IN ('routine', 'urgent')),
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '', -- "episode:<uuid>"
    episode_id  text,
    child_id    text,
    letter_id   uuid,
    created_at  timestamptz NOT NULL      -- the service clock (hw_now_ms), so tests can shift it
);
CREATE UNIQUE INDEX notifications_event_kind ON notifications (event_id, kind, subject)
    WHERE event_id IS NOT NULL;
CREATE INDEX notifications_episode ON notifications (episode_id);

-- The stored recipient list. address: "user:<sub>", "role:<role>@<org>" or
-- "home-staff:<home id>"; reason: why they were chosen.
CREATE TABLE notification_recipients (
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    address         text NOT NULL,
    reason          text NOT NULL,
    PRIMARY KEY (notification_id, address)
);
-- A user's inbox and stream: by address, then id.
CREATE INDEX notification_recipients_address ON notification_recipients (address, notification_id);

-- Acknowledged (read) by a person. Role-addressed notifications are
-- acknowledged by each holder of the role separately.
CREATE TABLE acknowledgements (
    user_sub        text NOT NULL,
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_sub, notification_id)
);

-- Letters (R-NOT-3, R-ESC-3, R-NOT-5): rendered text, kept as sent.
CREATE TABLE letters (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text NOT NULL CHECK (kind IN ('other_authority_missing', 'level3_escalation',
                                                  'missing_alert')),
    rule            text NOT NULL,
    event_id        text,
    episode_id      text,
    child_id        text,
    from_authority  text NOT NULL DEFAULT '',
    to_authority    text NOT NULL DEFAULT '',
    copy_org        text NOT NULL DEFAULT '',   -- the force whose missing person champion gets a copy
    addressee       text NOT NULL DEFAULT '',
    copy_to         text NOT NULL DEFAULT '',
    subject_line    text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX letters_event_kind ON letters (event_id, kind) WHERE event_id IS NOT NULL;
CREATE INDEX letters_child ON letters (child_id, created_at);
CREATE INDEX letters_to ON letters (to_authority, created_at);
CREATE INDEX letters_from ON letters (from_authority, created_at);

-- Mailboxes of authorities for external messages (STAFFS 21: the missing
-- alert addresses; a placing authority's designated safeguarding lead).
CREATE TABLE authority_mailboxes (
    authority   text NOT NULL,
    purpose     text NOT NULL,            -- "missing_children" | "safeguarding_lead" | "national_alert"
    email       text NOT NULL,
    PRIMARY KEY (authority, purpose)
);
INSERT INTO authority_mailboxes (authority, purpose, email) VALUES
    ('la-staffs', 'missing_children', 'safeguardingHQ@staffordshire.gov.uk'),
    ('la-stoke', 'missing_children', 'SRT@stoke.gov.uk');

-- External outbox: e-mails to a relay (and calls or texts to family
-- contacts). Written in the same transaction as the notification; a worker
-- delivers e-mail with retries when SMTP_RELAY is configured. Without a
-- relay (or for a channel with no gateway) rows stay 'pending': never dropped.
CREATE TABLE external_messages (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel          text NOT NULL CHECK (channel IN ('email', 'phone')),
    to_name          text NOT NULL DEFAULT '',
    to_address       text NOT NULL DEFAULT '',
    to_authority     text NOT NULL DEFAULT '',
    from_authority   text NOT NULL DEFAULT '',
    reason           text NOT NULL,
    rule             text NOT NULL,
    subject_line     text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    letter_id        uuid REFERENCES letters (id),
    notification_id  bigint REFERENCES notifications (id),
    episode_id       text
);
CREATE INDEX external_messages_due ON external_messages (next_attempt_at)
    WHERE status = 'pending' AND channel = 'email';
CREATE INDEX external_messages_to ON external_messages (to_authority, created_at);
CREATE INDEX external_messages_from ON external_messages (from_authority, created_at);

-- Children missing now, kept from the episodes events, for the 07:00 daily
-- alert (R-NOT-2) without a call to another service at 07:00.
CREATE TABLE missing_now (
    episode_id             text PRIMARY KEY,
    child_id               text NOT NULL,
    responsible_authority  text NOT NULL DEFAULT '',
    force                  text NOT NULL DEFAULT '',
    home_id                text NOT NULL DEFAULT '',
    status                 text NOT NULL,
    risk_level             text NOT NULL DEFAULT '',
    reported_at            text NOT NULL DEFAULT '',
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX missing_now_authority ON missing_now (responsible_authority);

-- One row per local date the daily alert ran: several replicas, a re-armed
-- deadline or a restart never send a day's alert twice.
CREATE TABLE daily_alert_runs (
    local_date     date PRIMARY KEY,
    fired_at       timestamptz NOT NULL,
    children       int NOT NULL,
    notifications  int NOT NULL
);

-- National / other-authority missing alerts raised by a user (R-NOT-5).
CREATE TABLE missing_alerts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    episode_id    text NOT NULL,
    child_id      text NOT NULL,
    ground        text NOT NULL,
    scope         text NOT NULL,
    authorities   text[] NOT NULL DEFAULT '{}',
    rationale     text NOT NULL,
    days_missing  int NOT NULL,
    raised_by     text NOT NULL,
    raised_org    text NOT NULL,
    raised_at     timestamptz NOT NULL,
    letter_id     uuid REFERENCES letters (id)
);
CREATE INDEX missing_alerts_episode ON missing_alerts (episode_id);
