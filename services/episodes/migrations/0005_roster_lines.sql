-- 0005_roster_lines.sql -- the SPOC's roster (R-SPOC-1) kept ready, one line
-- per child placed at a home now, instead of being worked out on each read.
--
-- Why: reads dominate (ARCHITECTURE "Scale"): a roster is read far more often
-- than any of its inputs change. Computing it on read walked every child's
-- episodes (the 90-day and 12-month counts), the open episode, interviews and
-- meeting actions; now a write refreshes the one child it touched, and a read
-- is one index scan over the home's lines.
--
-- What a line cannot hold is whatever depends on the time of the read: the
-- counts in the rolling windows and which meeting actions are overdue. A line
-- keeps the times instead (missing_at_ms, action_due_ms, milliseconds since
-- the epoch) and the service counts them as of the read, so the answer is the
-- same as the computation it replaces (home_roster_live, kept for the tests
-- that prove it).
--
-- Consistency: every change to a child's episodes, current placement, name,
-- date of birth, interview follow-ups or meeting actions refreshes that
-- child's line in the same transaction (triggers below). A refresh first
-- locks the child's row, so two transactions refreshing one child queue, and
-- the second recomputes from a snapshot that includes the first's commit: a
-- line never keeps a stale half of two concurrent changes.

CREATE TABLE roster_lines (
    placement_id        uuid PRIMARY KEY,
    home_id             uuid NOT NULL,
    child_id            uuid NOT NULL,
    first_name          text NOT NULL,
    last_name           text NOT NULL,
    date_of_birth       text NOT NULL,
    placed_since_ms     bigint NOT NULL,
    reg41_status        text NOT NULL,
    episode_status      text NOT NULL,      -- the newest open episode, '' if none
    episode_id          text NOT NULL,
    risk_level          text NOT NULL,
    long_term           boolean NOT NULL,
    -- reported_at of the child's missing episodes (not absences) of roughly
    -- the last 13 months: enough for a 12-month window as of any later read.
    missing_at_ms       bigint[] NOT NULL,
    overdue_interviews  bigint NOT NULL,
    -- One entry per open meeting action: its due time; 0 (always past) once
    -- the meetings service said it is overdue; the largest bigint (never)
    -- when it has no due time.
    action_due_ms       bigint[] NOT NULL
);
CREATE INDEX roster_lines_home ON roster_lines (home_id, last_name, first_name, child_id);
CREATE INDEX roster_lines_child ON roster_lines (child_id);

-- The lines of the child's current placement(s) at a home, worked out now.
CREATE FUNCTION roster_lines_of(p_child uuid)
RETURNS SETOF roster_lines
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
    SELECT p.id, p.home_id, c.id, c.first_name, c.last_name, coalesce(c.date_of_birth::text, ''),
           floor(extract(epoch from p.starts_at) * 1000)::bigint, p.reg41_status,
           coalesce(oe.status, ''), coalesce(oe.id::text, ''), coalesce(oe.risk_level, ''),
           coalesce(oe.long_term, false),
           array(SELECT floor(extract(epoch from x.reported_at) * 1000)::bigint FROM episodes x
                  WHERE x.child_id = c.id AND x.was_missing
                    AND x.reported_at > now() - interval '13 months'
                  ORDER BY x.reported_at),
           (SELECT count(*) FROM interview_follow_ups f
             WHERE f.child_id = c.id AND f.overdue AND NOT f.done),
           array(SELECT CASE WHEN ma.overdue THEN 0
                             WHEN ma.due_at IS NULL THEN 9223372036854775807
                             ELSE floor(extract(epoch from ma.due_at) * 1000)::bigint END
                   FROM meeting_actions ma
                  WHERE ma.child_id = c.id AND NOT ma.completed
                  ORDER BY 1)
      FROM placements p JOIN children c ON c.id = p.child_id
      LEFT JOIN LATERAL (SELECT e.id, e.status, e.risk_level, e.long_term FROM episodes e
                          WHERE e.child_id = c.id AND e.status <> 'closed'
                          ORDER BY e.reported_at DESC LIMIT 1) oe ON true
     WHERE p.child_id = p_child AND p.ends_at IS NULL AND p.home_id IS NOT NULL
$$;

CREATE FUNCTION roster_refresh(p_child uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF p_child IS NULL THEN
        RETURN;
    END IF;
    -- Queue behind any other transaction refreshing this child; the
    -- statements below then see its committed work (READ COMMITTED takes a
    -- new snapshot per statement).
    PERFORM 1 FROM children WHERE id = p_child FOR NO KEY UPDATE;
    DELETE FROM roster_lines WHERE child_id = p_child;
    INSERT INTO roster_lines SELECT * FROM roster_lines_of(p_child);
END
$$;

-- Every line again (after a bulk load with triggers off, or to repair).
CREATE FUNCTION roster_rebuild()
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    n bigint;
BEGIN
    LOCK TABLE roster_lines IN EXCLUSIVE MODE;
    DELETE FROM roster_lines;
    INSERT INTO roster_lines
    SELECT l.* FROM placements p CROSS JOIN LATERAL roster_lines_of(p.child_id) l
     WHERE p.ends_at IS NULL AND p.home_id IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Row triggers: tables whose rows carry child_id.
CREATE FUNCTION roster_touch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM roster_refresh(OLD.child_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.child_id IS DISTINCT FROM OLD.child_id) THEN
        PERFORM roster_refresh(NEW.child_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION roster_touch_child()
RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM roster_refresh(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_episodes
    AFTER INSERT OR DELETE OR UPDATE OF child_id, status, risk_level, long_term, reported_at, was_missing
    ON episodes FOR EACH ROW EXECUTE FUNCTION roster_touch();
CREATE TRIGGER roster_placements
    AFTER INSERT OR DELETE OR UPDATE ON placements FOR EACH ROW EXECUTE FUNCTION roster_touch();
CREATE TRIGGER roster_interview_follow_ups
    AFTER INSERT OR DELETE OR UPDATE ON interview_follow_ups FOR EACH ROW EXECUTE FUNCTION roster_touch();
CREATE TRIGGER roster_meeting_actions
    AFTER INSERT OR DELETE OR UPDATE ON meeting_actions FOR EACH ROW EXECUTE FUNCTION roster_touch();
CREATE TRIGGER roster_children
    AFTER UPDATE OF first_name, last_name, date_of_birth ON children
    FOR EACH ROW EXECUTE FUNCTION roster_touch_child();

-- The computation the lines replace, as of any time, kept so the tests can
-- compare it with the lines. GetHomeRoster reads the lines with one
-- statement of its own (services/episodes/store.c, ep_store_home_roster),
-- the home's row and its lines together.
ALTER FUNCTION home_roster(uuid, timestamptz, timestamptz, timestamptz)
    RENAME TO home_roster_live;

SELECT roster_rebuild();
