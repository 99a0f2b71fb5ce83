-- 0001_common.sql -- tables every service schema gets (audit, outbox, inbox, idempotency, deadlines).
-- Run by hw_migrate inside the service's schema (search_path is set), so names are unqualified.

-- Audit (DPA 2018 s.62, PROTOCOL R-SEC-2): one row per read or change of a
-- child's record. Append-only: the runtime role is granted INSERT and SELECT
-- only, and the triggers below refuse UPDATE, DELETE and TRUNCATE for anyone.
CREATE TABLE audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    subject     text NOT NULL,            -- the caller's sub
    roles       text NOT NULL DEFAULT '', -- comma-separated
    org         text NOT NULL DEFAULT '',
    action      text NOT NULL,            -- the gRPC method, "/homeward.episodes.v1.Episodes/GetEpisode"
    record_type text NOT NULL,            -- "episode"
    record_id   text NOT NULL,
    purpose     text NOT NULL,            -- x-purpose: the stated reason
    request_id  text
);
-- "Who looked at this child's record, and when": by record, then time.
CREATE INDEX audit_record_at ON audit (record_type, record_id, at);
-- "What did this person look at": by caller, then time.
CREATE INDEX audit_subject_at ON audit (subject, at);

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Outbox: events written in the same transaction as the change they report.
-- seq gives the order of creation; id is the event id receivers de-duplicate on.
CREATE TABLE outbox (
    seq         bigserial PRIMARY KEY,
    id          uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    type        text NOT NULL,            -- "episodes.located"
    subject     text NOT NULL,            -- "episode:<uuid>"
    payload     jsonb NOT NULL,           -- ids and facts, never names or dates of birth
    occurred_at timestamptz NOT NULL DEFAULT now()
);
-- Subscribers the relay has seen configured. A relay works for a subscriber
-- only while it holds this row's lock (FOR UPDATE SKIP LOCKED), so each
-- subscriber gets events in order and replicas never deliver one twice.
CREATE TABLE outbox_subscriber (
    subscriber  text PRIMARY KEY,         -- host:port
    added_at    timestamptz NOT NULL DEFAULT now()
);
-- One row per event delivered (acknowledged) to a subscriber. An event with
-- no row for a subscriber is still owed to it -- including events written
-- before any subscriber was configured.
CREATE TABLE outbox_delivery (
    subscriber   text NOT NULL,
    seq          bigint NOT NULL REFERENCES outbox (seq) ON DELETE CASCADE,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, seq)
);

-- Inbox: ids of events this service has handled, so a repeat delivery changes nothing.
CREATE TABLE inbox (
    event_id    text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency: the first (packed protobuf) response to a mutating call, keyed
-- by the caller's sub, the method and the client's request_id.
CREATE TABLE idempotency (
    subject     text NOT NULL,
    method      text NOT NULL,
    request_id  text NOT NULL,
    response    bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, method, request_id)
);
CREATE INDEX idempotency_created_at ON idempotency (created_at);

-- Deadlines (hw_deadline.c, the scheduler): the durable truth; Redis only schedules.
-- Columns, as the scheduler uses them:
--   id          bigserial primary key
--   kind        text not null          e.g. "meetings.strategy_due"
--   subject     text not null          e.g. "episode:<uuid>"
--   due_at      timestamptz not null
--   payload     text                   JSON or NULL
--   state       text not null default 'pending', one of pending | done | cancelled
--   attempts    int not null default 0
--   created_at  timestamptz default now()
--   done_at     timestamptz            when it became done or cancelled
-- At most one pending deadline per (kind, subject): partial unique index.
CREATE TABLE deadlines (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    subject     text NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     text,
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'cancelled')),
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz DEFAULT now(),
    done_at     timestamptz
);
CREATE UNIQUE INDEX deadlines_pending_kind_subject ON deadlines (kind, subject)
    WHERE state = 'pending';
-- Re-arming reads the pending rows by due time.
CREATE INDEX deadlines_pending_due ON deadlines (due_at) WHERE state = 'pending';
