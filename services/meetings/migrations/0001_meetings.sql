-- 0001_meetings.sql -- episodes as the meetings service learns of them, meetings, invitees, actions.
-- Runs inside the "meetings" schema (search_path set by the migration runner).

-- The facts of each episode this service has been told of (episodes.* events):
-- what escalation and the long-duration deadlines are decided on, and who the
-- child's people are. Ids and facts only, never a name or a date of birth.
CREATE TABLE episodes (
    episode_id            text PRIMARY KEY CHECK (episode_id <> ''),
    child_id              text NOT NULL CHECK (child_id <> ''),
    profile               text NOT NULL CHECK (profile IN ('STAFFS', 'LLR')),
    responsible_authority text NOT NULL DEFAULT '',
    placing_authority     text NOT NULL DEFAULT '',
    host_authority        text NOT NULL DEFAULT '',
    force                 text NOT NULL DEFAULT '',
    home_id               text NOT NULL DEFAULT '',
    social_worker_id      text NOT NULL DEFAULT '',
    assigned_officer      text NOT NULL DEFAULT '',
    spoc_id               text NOT NULL DEFAULT '',   -- the first police SPOC of the home
    reported_at           timestamptz,
    missing_90_days       integer,
    located_at            timestamptz,
    closed_at             timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX episodes_child ON episodes (child_id, reported_at);

CREATE TABLE meetings (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id              text NOT NULL CHECK (child_id <> ''),
    kind                  text NOT NULL CHECK (kind IN ('intervention_level_1', 'intervention_level_2',
                              'intervention_level_3', 'strategy', 'case_review')),
    level                 integer NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
    profile               text NOT NULL CHECK (profile IN ('STAFFS', 'LLR')),
    status                text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'scheduled', 'held')),
    trigger               text NOT NULL CHECK (trigger IN ('repeat_episodes', 'long_duration',
                              'manual', 'follow_up')),
    manual_reason         text NOT NULL DEFAULT '',
    reason                text NOT NULL DEFAULT '',
    episode_id            text NOT NULL DEFAULT '',
    episodes_in_90_days   integer NOT NULL DEFAULT 0,
    responsible_authority text NOT NULL DEFAULT '',
    placing_authority     text NOT NULL DEFAULT '',
    force                 text NOT NULL DEFAULT '',
    home_id               text NOT NULL DEFAULT '',
    chair_role            text NOT NULL,
    due_by                timestamptz NOT NULL,
    scheduled_at          timestamptz,
    location              text NOT NULL DEFAULT '',
    requested_by          text NOT NULL DEFAULT '',
    escalated_from        uuid REFERENCES meetings (id),
    follows               uuid REFERENCES meetings (id),
    -- Minutes (STAFFS 13.16, 17.3), set when the meeting is held.
    push_factors          text NOT NULL DEFAULT '',
    pull_factors          text NOT NULL DEFAULT '',
    discussion            text NOT NULL DEFAULT '',
    actions_reviewed      text NOT NULL DEFAULT '',
    plan                  text NOT NULL DEFAULT '',
    return_to_placement   text NOT NULL DEFAULT '' CHECK (return_to_placement IN ('', 'yes', 'no')),
    section_47            text NOT NULL DEFAULT '' CHECK (section_47 IN ('', 'yes', 'no')),
    decisions             text[] NOT NULL DEFAULT '{}',
    next_meeting_at       timestamptz,
    minutes_recorded_by   text NOT NULL DEFAULT '',
    minutes_recorded_at   timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL),
    CHECK (status <> 'held' OR (minutes_recorded_at IS NOT NULL AND plan <> ''))
);
-- One open meeting per child and kind (level): a repeated or late event
-- cannot make a second (R-ESC-1..5).
CREATE UNIQUE INDEX meetings_one_open ON meetings (child_id, kind) WHERE status <> 'held';
CREATE INDEX meetings_child ON meetings (child_id, created_at);
CREATE INDEX meetings_authority_open ON meetings (responsible_authority, due_by) WHERE status <> 'held';
CREATE INDEX meetings_authority ON meetings (responsible_authority, created_at);

-- R-MEET-1: invitees by role, resolved to a person where the records say who.
CREATE TABLE invitees (
    id                bigserial PRIMARY KEY,
    meeting_id        uuid NOT NULL REFERENCES meetings (id),
    position          integer NOT NULL,
    role              text NOT NULL CHECK (role <> ''),
    label             text NOT NULL DEFAULT '',
    chair             boolean NOT NULL DEFAULT false,
    as_appropriate    boolean NOT NULL DEFAULT false,
    person_id         text NOT NULL DEFAULT '',
    person_name       text NOT NULL DEFAULT '',
    organisation      text NOT NULL DEFAULT '',
    attended          boolean,
    apologies         boolean NOT NULL DEFAULT false,
    attendance_note   text NOT NULL DEFAULT '',
    attendance_by     text NOT NULL DEFAULT '',
    attendance_at     timestamptz,
    UNIQUE (meeting_id, position)
);
CREATE INDEX invitees_person ON invitees (person_id) WHERE person_id <> '';

-- R-MEET-1: actions with an owner and a due date; overdue ones are visible.
CREATE TABLE actions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id      uuid NOT NULL REFERENCES meetings (id),
    child_id        text NOT NULL,
    home_id         text NOT NULL DEFAULT '',
    description     text NOT NULL CHECK (btrim(description) <> ''),
    owner_id        text NOT NULL DEFAULT '',
    owner_name      text NOT NULL DEFAULT '',
    owner_role      text NOT NULL DEFAULT '',
    due_at          timestamptz NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    completed_by    text NOT NULL DEFAULT '',
    outcome         text NOT NULL DEFAULT '',
    overdue_at      timestamptz,
    CHECK (owner_id <> '' OR owner_name <> ''),
    CHECK (completed_at IS NULL OR outcome <> '')
);
CREATE INDEX actions_meeting ON actions (meeting_id, created_at);
CREATE INDEX actions_open_child ON actions (child_id, due_at) WHERE completed_at IS NULL;
CREATE INDEX actions_open_due ON actions (due_at) WHERE completed_at IS NULL;

-- R-LONG-1: line-manager alerts raised (the event goes out through the outbox;
-- the row lets a reader see the alert was made and when).
CREATE TABLE alerts (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    episode_id    text NOT NULL,
    child_id      text NOT NULL,
    raised_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, episode_id)
);
