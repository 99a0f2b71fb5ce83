-- roster.sql -- pgbench: the statements GetHomeRoster runs (services/episodes/
-- store.c ep_store_home_get, ep_store_roster's home_roster() of migrations
-- 0003/0004, and the audit row), in one
-- transaction, for home :home with the windows as of :now_ms.
BEGIN;
SELECT h.id, h.name, h.address, h.provider, h.host_authority, encode(h.record, 'hex'), a.force, a.profile
  FROM episodes.homes h JOIN episodes.authorities a ON a.code = h.host_authority
 WHERE h.id = :home::uuid;
SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text, p.id,
       floor(extract(epoch from p.starts_at) * 1000)::bigint, p.reg41_status,
       coalesce(oe.status, ''), coalesce(oe.id::text, ''), coalesce(oe.risk_level, ''),
       coalesce(oe.long_term, false), n.m90, n.m12,
       (SELECT count(*) FROM episodes.interview_follow_ups f
         WHERE f.child_id = c.id AND f.overdue AND NOT f.done),
       a.n_open, a.n_overdue
  FROM episodes.placements p JOIN episodes.children c ON c.id = p.child_id
  LEFT JOIN LATERAL (SELECT e.id, e.status, e.risk_level, e.long_term FROM episodes.episodes e
                      WHERE e.child_id = c.id AND e.status <> 'closed'
                      ORDER BY e.reported_at DESC LIMIT 1) oe ON true
  CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.reported_at > (timestamptz 'epoch' + (:from90)::bigint * interval '1 millisecond')) AS m90,
                             count(*) AS m12
                        FROM episodes.episodes x WHERE x.child_id = c.id AND x.was_missing
                         AND x.reported_at > (timestamptz 'epoch' + (:from12)::bigint * interval '1 millisecond')
                         AND x.reported_at <= (timestamptz 'epoch' + (:now_ms)::bigint * interval '1 millisecond')) n
  CROSS JOIN LATERAL (SELECT count(*) AS n_open,
                             count(*) FILTER (WHERE ma.overdue OR ma.due_at <= (timestamptz 'epoch' + (:now_ms)::bigint * interval '1 millisecond')) AS n_overdue
                        FROM episodes.meeting_actions ma WHERE ma.child_id = c.id AND NOT ma.completed) a
 WHERE p.home_id = :home::uuid AND p.ends_at IS NULL
 ORDER BY c.last_name, c.first_name, c.id;
INSERT INTO episodes.audit (subject, roles, org, action, record_type, record_id, purpose, request_id)
VALUES ('bench-spoc', 'spoc', 'force-staffs', '/homeward.episodes.v1.Episodes/GetHomeRoster',
        'home_roster', :home, 'bench', NULL);
COMMIT;
