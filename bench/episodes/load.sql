-- load.sql -- bulk-load the benchmark's data straight into the episodes schema:
-- 3,000 homes, 10,000 looked-after children each placed at a home, 200,000
-- closed episodes over three years (one in five an absence). Fictional, made
-- with generate_series; run by bench_episodes.sh after the service migrated.
\set ON_ERROR_STOP 1
SET search_path = episodes;
SET client_min_messages = warning;
-- Bulk: row triggers off (superuser only), the roster lines made once at
-- the end instead of one refresh per inserted episode.
SET session_replication_role = replica;
BEGIN;
INSERT INTO homes (name, address, host_authority, spoc_ids)
SELECT 'Bench Home ' || g, g || ' Bench Road',
       (ARRAY['la-stoke', 'la-staffs', 'la-leics', 'la-leicester'])[1 + g % 4],
       ARRAY['bench-spoc-' || g]
FROM generate_series(1, 3000) g;

INSERT INTO children (first_name, last_name, date_of_birth, looked_after, legal_status,
                      responsible_authority, force)
SELECT 'Bench' || g, 'Child' || g, date '2008-01-01' + (g % 3650), true, 's31',
       (ARRAY['la-stoke', 'la-staffs', 'la-leics', 'la-leicester'])[1 + g % 4],
       CASE WHEN g % 4 < 2 THEN 'force-staffs' ELSE 'force-llr' END
FROM generate_series(1, 10000) g;

-- Numbered lists for the load tools (outside the service's schema).
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.homes, bench.children;
CREATE TABLE bench.homes AS SELECT row_number() OVER (ORDER BY name) AS n, id, host_authority FROM homes;
CREATE TABLE bench.children AS SELECT row_number() OVER (ORDER BY last_name) AS n, id,
       responsible_authority FROM children;
ALTER TABLE bench.homes ADD PRIMARY KEY (n);
ALTER TABLE bench.children ADD PRIMARY KEY (n);

INSERT INTO placements (child_id, home_id, placement_type, starts_at, placing_authority,
                        responsible_authority, reg41_status, reg41_submitted_at)
SELECT c.id, h.id, 'children''s home', now() - interval '200 days', c.responsible_authority,
       c.responsible_authority, 'submitted', now() - interval '199 days'
FROM bench.children c JOIN bench.homes h ON h.n = ((c.n - 1) % 3000) + 1;

INSERT INTO episodes (child_id, placement_id, home_id, status, classification, was_missing,
                      force, profile, responsible_authority, placing_authority, reported_by_id,
                      reported_at, missing_since, located_at, closed_at)
SELECT c.id, p.id, p.home_id, 'closed',
       CASE WHEN g % 5 = 0 THEN 'away_from_placement' ELSE 'missing_from_care' END, g % 5 <> 0,
       a.force, a.profile, c.responsible_authority, c.responsible_authority, 'bench-loader',
       t, CASE WHEN g % 5 <> 0 THEN t END, t + interval '6 hours', t + interval '2 days'
FROM generate_series(1, 200000) g
JOIN bench.children c ON c.n = (g % 10000) + 1
JOIN placements p ON p.child_id = c.id AND p.ends_at IS NULL
JOIN homes h ON h.id = p.home_id
JOIN authorities a ON a.code = h.host_authority
CROSS JOIN LATERAL (SELECT now() - (g % 1095) * interval '1 day' - (g % 86400) * interval '1 second' AS t) x;
SELECT roster_rebuild();
COMMIT;
RESET session_replication_role;
ANALYZE;
