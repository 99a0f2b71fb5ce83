-- 0002_episodes.sql -- missing and absence episodes, their timeline, and the change feed.

CREATE TABLE episodes (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id               uuid NOT NULL REFERENCES children (id),
    placement_id           uuid REFERENCES placements (id),
    home_id                uuid REFERENCES homes (id),
    status                 text NOT NULL CHECK (status IN ('reported', 'absent', 'missing', 'located',
                               'prevention_interview_done', 'return_interview_done',
                               'return_interview_declined', 'closed')),
    classification         text NOT NULL CHECK (classification IN
                               ('missing_from_care', 'missing_from_home', 'away_from_placement')),
    was_missing            boolean NOT NULL,      -- counts as a missing episode (R-EPI-4)
    force                  text NOT NULL,
    profile                text NOT NULL CHECK (profile IN ('STAFFS', 'LLR')),
    responsible_authority  text NOT NULL DEFAULT '',
    placing_authority      text NOT NULL DEFAULT '',
    assigned_officer_id    text NOT NULL DEFAULT '',
    assigned_officer_name  text NOT NULL DEFAULT '',
    reported_at            timestamptz NOT NULL DEFAULT now(),
    reported_by_id         text NOT NULL,
    missing_since          timestamptz,
    last_seen_at           timestamptz,
    last_seen_place        text NOT NULL DEFAULT '',
    located_at             timestamptz,
    located_place          text NOT NULL DEFAULT '',
    located_by             text NOT NULL DEFAULT '',
    return_method          text NOT NULL DEFAULT '',
    located_notes          text NOT NULL DEFAULT '',
    located_recorded_by    text NOT NULL DEFAULT '',
    prevention_interview_at timestamptz,
    return_interview_offered  boolean NOT NULL DEFAULT false,
    return_interview_accepted boolean NOT NULL DEFAULT false,
    closed_at              timestamptz,
    closed_by_id           text NOT NULL DEFAULT '',
    close_reason           text NOT NULL DEFAULT '',
    police_incident_ref    text NOT NULL DEFAULT '',   -- R-EPI-5
    mispers_ref            text NOT NULL DEFAULT '',   -- R-EPI-5
    long_term              boolean NOT NULL DEFAULT false,  -- R-DEF-6
    risk_level             text NOT NULL DEFAULT '',
    risk_scale_version     text NOT NULL DEFAULT '',
    report                 bytea,                      -- packed MissingReport as pre-filled
    updated_at             timestamptz NOT NULL DEFAULT now()
);
-- Counts per child (R-EPI-4) and the child's open episode.
CREATE INDEX episodes_child_reported ON episodes (child_id, reported_at DESC);
-- ListEpisodes keyset order.
CREATE INDEX episodes_reported_id ON episodes (reported_at DESC, id DESC);
CREATE INDEX episodes_force_reported ON episodes (force, reported_at DESC);
CREATE INDEX episodes_authority_reported ON episodes (responsible_authority, reported_at DESC);
CREATE INDEX episodes_home_reported ON episodes (home_id, reported_at DESC);
CREATE INDEX episodes_open ON episodes (child_id) WHERE status <> 'closed';

-- Every change to an episode, appended with who and when (R-EPI-3).
CREATE TABLE timeline (
    id           bigserial PRIMARY KEY,
    episode_id   uuid NOT NULL REFERENCES episodes (id),
    at           timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    actor_id     text NOT NULL,
    actor_name   text NOT NULL DEFAULT '',
    text         text NOT NULL DEFAULT '',
    place        text NOT NULL DEFAULT ''
);
CREATE INDEX timeline_episode ON timeline (episode_id, id);

-- The change feed WatchEpisodes streams from (R-EPI-6). Rows are written
-- last in the transaction of the change, under a transaction-scoped advisory
-- lock, so seq order is commit order: a reader that has seen seq N has seen
-- every change numbered below it and a cursor never skips a late commit.
CREATE TABLE changes (
    seq         bigserial PRIMARY KEY,
    episode_id  uuid NOT NULL REFERENCES episodes (id),
    change      text NOT NULL,            -- "episodes.reported", ...
    at          timestamptz NOT NULL DEFAULT now()
);
