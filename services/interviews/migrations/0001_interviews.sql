-- 0001_interviews.sql -- prevention and return interviews, consent, sharing decisions, contact attempts.
-- Runs inside the "interviews" schema (search_path set by the migration runner).

-- One row per expected interview: an episode's "located" event creates a
-- prevention interview (R-RET-1) and a return interview (R-RET-2). The facts
-- copied from the event (authority, force, home, profile, placement) are what
-- access and timeliness are decided on, so they are kept with the interview.
CREATE TABLE interviews (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind                  text NOT NULL CHECK (kind IN ('prevention', 'return')),
    episode_id            text NOT NULL CHECK (episode_id <> ''),
    child_id              text NOT NULL CHECK (child_id <> ''),
    home_id               text NOT NULL DEFAULT '',
    responsible_authority text NOT NULL DEFAULT '',
    force                 text NOT NULL DEFAULT '',
    profile               text NOT NULL CHECK (profile IN ('STAFFS', 'LLR')),
    placement_type        text NOT NULL DEFAULT '',
    located_at            timestamptz NOT NULL,
    due_at                timestamptz NOT NULL,
    state                 text NOT NULL DEFAULT 'due'
                          CHECK (state IN ('due', 'draft', 'submitted', 'declined')),
    assignee              text NOT NULL DEFAULT '',
    offered_at            timestamptz,
    started_at            timestamptz,
    -- Drafts and submitted forms are the packed protobuf messages of the API
    -- (PreventionInterviewForm / ReturnInterviewForm): the form is read back
    -- whole; what reports need is copied into the columns below.
    draft                 bytea,
    draft_version         integer NOT NULL DEFAULT 0,
    draft_saved_at        timestamptz,
    draft_saved_by        text,
    form                  bytea,
    interview_at          timestamptz,
    within_72h            boolean,
    lateness_codes        text[] NOT NULL DEFAULT '{}',
    lateness_note         text NOT NULL DEFAULT '',
    conducted_by          text,
    conducted_by_role     text,
    conducted_by_org      text,
    submitted_at          timestamptz,
    declined_at           timestamptz,
    decline_reason        text,
    declined_by           text,
    disclosure_kinds      text[] NOT NULL DEFAULT '{}',
    cse_prompted          boolean NOT NULL DEFAULT false,
    overdue_at            timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (episode_id, kind),
    CHECK (state <> 'submitted' OR (form IS NOT NULL AND interview_at IS NOT NULL
                                    AND submitted_at IS NOT NULL AND conducted_by IS NOT NULL)),
    CHECK (state <> 'declined' OR (declined_at IS NOT NULL AND decline_reason <> '')),
    CHECK (kind <> 'return' OR state <> 'submitted' OR within_72h IS NOT NULL)
);

-- ListDue: open interviews by assignee, force, home, authority, in due order.
CREATE INDEX interviews_open_assignee ON interviews (assignee, due_at) WHERE state IN ('due', 'draft');
CREATE INDEX interviews_open_force ON interviews (force, kind, due_at) WHERE state IN ('due', 'draft');
CREATE INDEX interviews_open_home ON interviews (home_id, kind, due_at) WHERE state IN ('due', 'draft');
CREATE INDEX interviews_open_authority ON interviews (responsible_authority, kind, due_at)
    WHERE state IN ('due', 'draft');
-- Timeliness report: an authority's interviews located in a period.
CREATE INDEX interviews_authority_located ON interviews (responsible_authority, kind, located_at);
CREATE INDEX interviews_child ON interviews (child_id);

-- R-RET-3: what the child was told (who, when, why) and whether they
-- consented. Never updated: a change of mind is a new row; the latest counts.
CREATE TABLE consents (
    id             bigserial PRIMARY KEY,
    interview_id   uuid NOT NULL REFERENCES interviews (id),
    shared_with    text NOT NULL CHECK (btrim(shared_with) <> ''),
    when_shared    text NOT NULL CHECK (btrim(when_shared) <> ''),
    why_shared     text NOT NULL CHECK (btrim(why_shared) <> ''),
    told_at        timestamptz NOT NULL,
    consent_given  boolean NOT NULL,
    notes          text NOT NULL DEFAULT '',
    recorded_by    text NOT NULL,
    recorded_role  text NOT NULL DEFAULT '',
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_interview ON consents (interview_id, id);

-- R-RET-3: without consent, information is shared only when critical to
-- safeguard the child; the reason is recorded here.
CREATE TABLE sharing_decisions (
    id             bigserial PRIMARY KEY,
    interview_id   uuid NOT NULL REFERENCES interviews (id),
    reason         text NOT NULL CHECK (btrim(reason) <> ''),
    shared_with    text NOT NULL DEFAULT '',
    decided_by     text NOT NULL,
    decided_role   text NOT NULL DEFAULT '',
    decided_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sharing_decisions_interview ON sharing_decisions (interview_id, id);

-- Attempts to reach the child that did not lead to an interview.
CREATE TABLE contact_attempts (
    id             bigserial PRIMARY KEY,
    interview_id   uuid NOT NULL REFERENCES interviews (id),
    attempted_at   timestamptz NOT NULL,
    method         text NOT NULL,
    note           text NOT NULL DEFAULT '',
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_attempts_interview ON contact_attempts (interview_id, id);
