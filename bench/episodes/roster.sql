-- roster.sql -- pgbench: the one statement GetHomeRoster runs for home :home
-- (services/episodes/store.c, ep_store_home_roster: the home and its roster
-- lines of migration 0005). The service counts the rolling windows from the
-- lines' times in C, and writes the read's audit row through the group
-- commit (common/hw_audit.c); bench_episodes.sh also runs it followed by
-- audit_row.sql, that row committed per read.
SELECT h.id, h.name, h.address, h.provider, h.host_authority, encode(h.record, 'hex'), a.force,
       a.profile, l.child_id, l.first_name, l.last_name, l.date_of_birth, l.placement_id,
       l.placed_since_ms, l.reg41_status, l.episode_status, l.episode_id, l.risk_level,
       l.long_term, l.missing_at_ms, l.overdue_interviews, l.action_due_ms
  FROM episodes.homes h JOIN episodes.authorities a ON a.code = h.host_authority
  LEFT JOIN episodes.roster_lines l ON l.home_id = h.id
 WHERE h.id = :home::uuid
 ORDER BY l.last_name, l.first_name, l.child_id;
