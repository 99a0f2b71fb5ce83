-- 0001_records.sql -- authorities, children, homes and placements (episodes schema).
-- Run by hw_migrate with search_path set to the service's schema.

-- Protocol profile per authority, as data (PROTOCOL "Protocol profiles"): a
-- child's responsible authority selects the care-plan profile, the host
-- area of the home selects the episode's. force: the police force covering it.
CREATE TABLE authorities (
    code     text PRIMARY KEY,               -- "la-stoke"
    name     text NOT NULL,
    profile  text NOT NULL CHECK (profile IN ('STAFFS', 'LLR')),
    force    text NOT NULL                   -- "force-staffs"
);

-- Fictional demonstration authorities; codes follow the two protocol areas.
INSERT INTO authorities (code, name, profile, force) VALUES
    ('la-stoke',     'Stoke-on-Trent (demo authority)',         'STAFFS', 'force-staffs'),
    ('la-staffs',    'Staffordshire (demo authority)',          'STAFFS', 'force-staffs'),
    ('la-leics',     'Leicestershire (demo authority)',         'LLR',    'force-llr'),
    ('la-leicester', 'Leicester City (demo authority)',         'LLR',    'force-llr'),
    ('la-rutland',   'Rutland (demo authority)',                'LLR',    'force-llr'),
    ('la-wessex',    'Wessex Borough (fictional authority)',    'STAFFS', 'force-wessex');

-- A child. Identity and what access and search need are columns; the rest of
-- the record (description, professionals, contacts, associates, addresses) is
-- the packed homeward.episodes.v1.Child message in `record`. Each
-- special-category group (R-SEC-3) is kept in its own column so a read for a
-- role that may not see it never even loads it.
CREATE TABLE children (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    first_name             text NOT NULL,
    last_name              text NOT NULL,
    aliases                text[] NOT NULL DEFAULT '{}',
    date_of_birth          date NOT NULL,
    looked_after           boolean NOT NULL DEFAULT false,
    legal_status           text NOT NULL DEFAULT '',
    responsible_authority  text REFERENCES authorities (code),
    -- Police force that may see the record without an episode (R-SEC-1): the
    -- responsible authority's force, or the force of the officer who created it.
    force                  text NOT NULL DEFAULT '',
    social_worker_id       text NOT NULL DEFAULT '',
    record                 bytea,           -- packed Child without special-category groups
    health                 bytea,           -- packed Health (special category)
    beliefs                bytea,           -- packed Beliefs (special category)
    cse                    bytea,           -- packed CseMatters (special category)
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX children_last_name ON children (lower(last_name) text_pattern_ops);
CREATE INDEX children_first_name ON children (lower(first_name) text_pattern_ops);
CREATE INDEX children_dob ON children (date_of_birth);
CREATE INDEX children_authority ON children (responsible_authority);

CREATE TABLE homes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL,
    address         text NOT NULL DEFAULT '',
    provider        text NOT NULL DEFAULT '',
    host_authority  text NOT NULL REFERENCES authorities (code),
    spoc_ids        text[] NOT NULL DEFAULT '{}',   -- SPOC officers' user ids (R-SPOC-1)
    record          bytea,                          -- packed Home (contacts, SPOC names)
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A placement; current while ends_at is NULL. Regulation 41 (R-NOT-4): due
-- 24 hours after arrival for a looked-after child.
CREATE TABLE placements (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id               uuid NOT NULL REFERENCES children (id),
    home_id                uuid REFERENCES homes (id),
    address                text NOT NULL DEFAULT '',
    placement_type         text NOT NULL DEFAULT '',
    starts_at              timestamptz NOT NULL,
    ends_at                timestamptz,
    placing_authority      text REFERENCES authorities (code),
    responsible_authority  text REFERENCES authorities (code),
    reg41_status           text NOT NULL DEFAULT 'due'
                           CHECK (reg41_status IN ('not_required', 'due', 'submitted', 'overdue')),
    reg41_submitted_at     timestamptz,
    reg41_form             bytea,                  -- packed Regulation41
    end_reason             text NOT NULL DEFAULT '',
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
-- One current placement per child.
CREATE UNIQUE INDEX placements_one_current ON placements (child_id) WHERE ends_at IS NULL;
-- The roster: who is at a home now (R-SPOC-1).
CREATE INDEX placements_home_current ON placements (home_id) WHERE ends_at IS NULL;
CREATE INDEX placements_child ON placements (child_id, starts_at);
