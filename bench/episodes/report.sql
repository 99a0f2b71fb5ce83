-- report.sql -- pgbench: the statements ReportMissing runs in its one
-- transaction (hw_idem, store.c child/home/open-episode reads, the episode,
-- the long-term deadline, timeline, audit, outbox event, change feed,
-- response reads and the kept answer), for a random bench child. The
-- Redis ZADD after commit is not included.
\set n random(1, 10000)
\set rq random(1, 1000000000)
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('bench-pgbench' || :rq));
SELECT response FROM episodes.idempotency WHERE subject = 'bench-pgbench' AND method = '/homeward.episodes.v1.Episodes/ReportMissing' AND request_id = :rq::text;
SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text, c.looked_after, c.legal_status,
       coalesce(c.responsible_authority, ''), c.force, encode(c.record, 'hex'), encode(c.health, 'hex'),
       encode(c.beliefs, 'hex'), encode(c.cse, 'hex'), array_to_json(c.aliases)::text,
       EXISTS (SELECT 1 FROM episodes.episodes x WHERE x.child_id = c.id AND x.force = 'force-staffs'),
       p.id, coalesce(p.home_id::text, ''), p.address, p.placement_type, p.starts_at, p.reg41_status
  FROM bench.children b JOIN episodes.children c ON c.id = b.id
  LEFT JOIN episodes.placements p ON p.child_id = c.id AND p.ends_at IS NULL
  LEFT JOIN episodes.homes h ON h.id = p.home_id
  LEFT JOIN episodes.authorities ha ON ha.code = h.host_authority
 WHERE b.n = :n;
SELECT h.id, h.name, h.address, a.force, a.profile FROM bench.children b
  JOIN episodes.placements p ON p.child_id = b.id AND p.ends_at IS NULL
  JOIN episodes.homes h ON h.id = p.home_id JOIN episodes.authorities a ON a.code = h.host_authority
 WHERE b.n = :n;
SELECT e.id FROM bench.children b JOIN episodes.episodes e ON e.child_id = b.id
 WHERE b.n = :n AND e.status <> 'closed' ORDER BY e.reported_at DESC LIMIT 1;
INSERT INTO episodes.episodes (child_id, placement_id, home_id, status, classification, was_missing,
       force, profile, responsible_authority, placing_authority, reported_by_id, reported_at,
       missing_since, last_seen_at, last_seen_place, report)
SELECT b.id, p.id, p.home_id, 'missing', 'missing_from_care', true, 'force-staffs', 'STAFFS',
       b.responsible_authority, b.responsible_authority, 'bench-pgbench', now(), now(), now(),
       'bench', decode('0a2462656e6368', 'hex')
  FROM bench.children b JOIN episodes.placements p ON p.child_id = b.id AND p.ends_at IS NULL
 WHERE b.n = :n
RETURNING id \gset ep_
INSERT INTO episodes.deadlines (kind, subject, due_at) VALUES ('long_term', 'episode:' || :ep_id, now() + interval '28 days');
INSERT INTO episodes.timeline (episode_id, at, kind, actor_id, actor_name, text, place)
VALUES (:ep_id::uuid, now(), 'reported', 'bench-pgbench', 'bench', 'reported missing_from_care by bench', 'bench');
INSERT INTO episodes.audit (subject, roles, org, action, record_type, record_id, purpose)
VALUES ('bench-pgbench', 'police_officer', 'force-staffs', '/homeward.episodes.v1.Episodes/ReportMissing', 'episode', :ep_id, 'bench');
SELECT jsonb_build_object('episode_id', e.id, 'child_id', e.child_id, 'home_id', e.home_id, 'status', e.status,
       'force', e.force, 'spoc_ids', coalesce(to_jsonb(h.spoc_ids), '[]'::jsonb),
       'missing_90_days', (SELECT count(*) FROM episodes.episodes x WHERE x.child_id = e.child_id
                           AND x.was_missing AND x.reported_at > now() - interval '90 days'))::text
  FROM episodes.episodes e JOIN episodes.children c ON c.id = e.child_id LEFT JOIN episodes.homes h ON h.id = e.home_id
 WHERE e.id = :ep_id::uuid;
INSERT INTO episodes.outbox (type, subject, payload) VALUES ('episodes.reported', 'episode:' || :ep_id, '{"bench": true}');
SELECT pg_advisory_xact_lock(hashtext('homeward.episodes.changes'));
INSERT INTO episodes.changes (episode_id, change) VALUES (:ep_id::uuid, 'episodes.reported');
SELECT e.*, c.first_name FROM episodes.episodes e JOIN episodes.children c ON c.id = e.child_id WHERE e.id = :ep_id::uuid;
SELECT count(*) FILTER (WHERE was_missing AND reported_at > now() - interval '90 days'), count(*)
  FROM episodes.episodes e JOIN bench.children b ON b.id = e.child_id
 WHERE b.n = :n AND reported_at > now() - interval '1 year';
INSERT INTO episodes.idempotency (subject, method, request_id, response)
VALUES ('bench-pgbench', '/homeward.episodes.v1.Episodes/ReportMissing', :rq::text || '-' || :ep_id, decode('0a00', 'hex'));
COMMIT;
