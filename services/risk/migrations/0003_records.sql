-- 0003_records.sql -- the records the risk service keeps: assessments and
-- their history (R-RISK-5), disputes (R-RISK-6), CSE matrices and prompts
-- (R-RISK-7), LAC plans (R-RISK-8), evaluation matrices (R-RISK-9),
-- abduction notices (R-CAWN-1), intelligence reports (R-INT-1) and CPS
-- checklists (R-CPS-1). Child and episode ids are the episodes service's
-- (no foreign key across services). Queries go by child, by episode and by
-- time, so those are indexed.

-- R-RISK-5: every change is a new row; rows are never updated or deleted.
CREATE TABLE assessments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    episode_id      text NOT NULL,
    child_id        text NOT NULL,
    stage           int NOT NULL CHECK (stage BETWEEN 1 AND 4),
    scale_version   int NOT NULL,
    level_code      text NOT NULL,
    level_rank      int NOT NULL CHECK (level_rank BETWEEN 0 AND 3),
    proposed_rank   int NOT NULL CHECK (proposed_rank BETWEEN 0 AND 3),
    proposal        bytea NOT NULL,     -- the homeward.risk.v1.Proposal, packed
    profile         text NOT NULL,
    rationale       text NOT NULL DEFAULT '',
    alternative_rank int,
    very_high_risk  boolean NOT NULL DEFAULT false,
    dispute_id      uuid,
    previous_level_code text NOT NULL DEFAULT '',
    assessed_by_id  text NOT NULL,
    assessed_by_name text NOT NULL DEFAULT '',
    assessed_by_role text NOT NULL,
    organisation    text NOT NULL,
    assessed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (scale_version, level_code) REFERENCES risk_levels(scale_version, code)
);
CREATE INDEX assessments_by_episode ON assessments (episode_id, assessed_at);
CREATE INDEX assessments_by_child ON assessments (child_id, assessed_at);

CREATE TABLE assessment_answers (
    assessment_id   uuid NOT NULL REFERENCES assessments(id),
    question_code   text NOT NULL REFERENCES questions(code),
    concern         int NOT NULL CHECK (concern BETWEEN 0 AND 3),
    answer          text NOT NULL DEFAULT '',
    PRIMARY KEY (assessment_id, question_code)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'risk history is append-only (R-RISK-5): % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER assessments_append_only BEFORE UPDATE OR DELETE ON assessments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER assessment_answers_append_only BEFORE UPDATE OR DELETE ON assessment_answers
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- R-RISK-6: step 1 control room manager, step 2 LPT sergeant.
CREATE TABLE disputes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assessment_id   uuid NOT NULL REFERENCES assessments(id),
    episode_id      text NOT NULL,
    child_id        text NOT NULL,
    disputed_rank   int NOT NULL,
    sought_rank     int NOT NULL,
    reason          text NOT NULL,
    raised_by_id    text NOT NULL,
    raised_by_role  text NOT NULL,
    organisation    text NOT NULL,
    raised_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    awaiting_step   int NOT NULL DEFAULT 1 CHECK (awaiting_step BETWEEN 0 AND 2),
    final_rank      int,
    resulting_assessment_id uuid REFERENCES assessments(id)
);
CREATE INDEX disputes_by_episode ON disputes (episode_id, raised_at);
CREATE INDEX disputes_by_child ON disputes (child_id, raised_at);
-- One open dispute per assessment.
CREATE UNIQUE INDEX disputes_one_open ON disputes (assessment_id) WHERE awaiting_step > 0;

CREATE TABLE dispute_steps (
    dispute_id      uuid NOT NULL REFERENCES disputes(id),
    step            int NOT NULL CHECK (step IN (1, 2)),
    outcome         int NOT NULL CHECK (outcome BETWEEN 1 AND 3),
    level_rank      int NOT NULL,
    rationale       text NOT NULL,
    decided_by_id   text NOT NULL,
    decided_by_name text NOT NULL DEFAULT '',
    decided_by_role text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (dispute_id, step)
);

-- R-RISK-7
CREATE TABLE cse_matrices (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    episode_id      text NOT NULL DEFAULT '',
    level_rank      int NOT NULL CHECK (level_rank BETWEEN 1 AND 3),
    ticked_rank     int,
    raised          boolean NOT NULL,
    raise_rationale text NOT NULL DEFAULT '',
    category_of_offending text NOT NULL DEFAULT '',
    review_date     date NOT NULL,
    child_consent   int NOT NULL DEFAULT 0,
    parents_aware   int NOT NULL DEFAULT 0,
    comments        text NOT NULL DEFAULT '',
    child_present   boolean NOT NULL DEFAULT false,
    routing         int NOT NULL CHECK (routing BETWEEN 1 AND 3),
    prompt_id       uuid,
    recorded_by_id  text NOT NULL,
    recorded_by_role text NOT NULL,
    organisation    text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cse_matrices_by_child ON cse_matrices (child_id, recorded_at);

CREATE TABLE cse_matrix_indicators (
    matrix_id       uuid NOT NULL REFERENCES cse_matrices(id),
    indicator_code  text NOT NULL REFERENCES cse_indicators(code),
    PRIMARY KEY (matrix_id, indicator_code)
);

CREATE TABLE cse_matrix_shares (
    matrix_id       uuid NOT NULL REFERENCES cse_matrices(id),
    recipient       text NOT NULL,
    shared_by_id    text NOT NULL,
    shared_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (matrix_id, recipient)
);

-- A return interview suggested a CSE matrix (event interviews.cse_prompt).
CREATE TABLE cse_prompts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    episode_id      text NOT NULL DEFAULT '',
    interview_id    text NOT NULL DEFAULT '',
    event_id        text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    matrix_id       uuid REFERENCES cse_matrices(id)
);
CREATE INDEX cse_prompts_by_child ON cse_prompts (child_id, created_at);

-- R-RISK-8
CREATE TABLE lac_plans (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    placement       int NOT NULL CHECK (placement IN (1, 2)),
    placement_started_at timestamptz,
    meeting_date    date NOT NULL,
    review_due      date NOT NULL,
    concluding_assessment text NOT NULL,
    action_plan     text NOT NULL,
    copies_given_to text NOT NULL DEFAULT '',
    recorded_by_id  text NOT NULL,
    recorded_by_role text NOT NULL,
    organisation    text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX lac_plans_by_child ON lac_plans (child_id, recorded_at);

CREATE TABLE lac_plan_indicators (
    plan_id         uuid NOT NULL REFERENCES lac_plans(id),
    indicator_code  text NOT NULL REFERENCES lac_indicators(code),
    information     text NOT NULL,
    PRIMARY KEY (plan_id, indicator_code)
);

CREATE TABLE lac_plan_places (
    plan_id         uuid NOT NULL REFERENCES lac_plans(id),
    position        int NOT NULL,
    address         text NOT NULL,
    known_risk      text NOT NULL CHECK (known_risk IN ('low', 'medium', 'high')),
    action          text NOT NULL,
    PRIMARY KEY (plan_id, position)
);

-- R-RISK-9
CREATE TABLE evaluation_matrices (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    episode_id      text NOT NULL DEFAULT '',
    vulnerability_comments text NOT NULL DEFAULT '',
    engages_in_return_interviews text NOT NULL DEFAULT ''
        CHECK (engages_in_return_interviews IN ('', 'yes', 'no', 'sometimes')),
    identified_level text NOT NULL CHECK (identified_level IN ('low', 'medium', 'high')),
    actions         text NOT NULL DEFAULT '',
    recorded_by_id  text NOT NULL,
    recorded_by_role text NOT NULL,
    organisation    text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX evaluation_matrices_by_child ON evaluation_matrices (child_id, recorded_at);

CREATE TABLE evaluation_matrix_items (
    matrix_id       uuid NOT NULL REFERENCES evaluation_matrices(id),
    item_code       text NOT NULL REFERENCES evaluation_items(code),
    impact          text CHECK (impact IN ('low', 'medium', 'high')),
    likelihood      text CHECK (likelihood IN ('low', 'medium', 'high')),
    details         text NOT NULL DEFAULT '',
    PRIMARY KEY (matrix_id, item_code)
);

-- R-CAWN-1
CREATE TABLE abduction_notices (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    episode_id      text NOT NULL DEFAULT '',
    legal_basis     int NOT NULL CHECK (legal_basis IN (1, 2)),
    cites_section_2 boolean NOT NULL,
    child_age       int NOT NULL CHECK (child_age BETWEEN 0 AND 17),
    child_in_care   boolean NOT NULL,
    responsible_authority text NOT NULL DEFAULT '',
    recipient_name  text NOT NULL,
    recipient_date_of_birth date,
    recipient_address text NOT NULL DEFAULT '',
    photograph_shown boolean NOT NULL,
    identification_without_photograph text NOT NULL DEFAULT '',
    officer_collar_number text NOT NULL,
    officer_name    text NOT NULL,
    station         text NOT NULL DEFAULT '',
    served_at       timestamptz NOT NULL,
    recipient_signed boolean NOT NULL,
    refusal_reason  text NOT NULL DEFAULT '',
    recorded_by_id  text NOT NULL,
    organisation    text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (legal_basis = 2 OR child_age < 16),
    CHECK (legal_basis = 1 OR child_in_care)
);
CREATE INDEX abduction_notices_by_child ON abduction_notices (child_id, served_at);

-- R-INT-1
CREATE TABLE intelligence_reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL DEFAULT '',
    source          int NOT NULL CHECK (source BETWEEN 1 AND 3),
    summary         text NOT NULL DEFAULT '',
    recorded_by_id  text NOT NULL,
    recorded_by_role text NOT NULL,
    organisation    text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX intelligence_reports_by_child ON intelligence_reports (child_id, recorded_at);

CREATE TABLE intelligence_items (
    report_id       uuid NOT NULL REFERENCES intelligence_reports(id),
    ref             text NOT NULL,
    kind            int NOT NULL CHECK (kind BETWEEN 1 AND 6),
    description     text NOT NULL,
    identifier      text NOT NULL DEFAULT '',
    occurred_at     timestamptz,
    position        int NOT NULL,
    PRIMARY KEY (report_id, ref)
);

CREATE TABLE intelligence_links (
    report_id       uuid NOT NULL,
    from_ref        text NOT NULL,
    to_ref          text NOT NULL,
    description     text NOT NULL DEFAULT '',
    position        int NOT NULL,
    PRIMARY KEY (report_id, position),
    FOREIGN KEY (report_id, from_ref) REFERENCES intelligence_items(report_id, ref),
    FOREIGN KEY (report_id, to_ref) REFERENCES intelligence_items(report_id, ref)
);

-- R-CPS-1
CREATE TABLE cps_checklists (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    child_id        text NOT NULL,
    episode_id      text NOT NULL DEFAULT '',
    incident_ref    text NOT NULL,
    followup_due_at timestamptz NOT NULL,
    completed_at    timestamptz,
    created_by_id   text NOT NULL,
    organisation    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cps_checklists_by_child ON cps_checklists (child_id, created_at);

CREATE TABLE cps_answers (
    checklist_id    uuid NOT NULL REFERENCES cps_checklists(id),
    number          int NOT NULL CHECK (number BETWEEN 1 AND 10),
    answer          text NOT NULL,
    answered_by_id  text NOT NULL,
    answered_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (checklist_id, number)
);
