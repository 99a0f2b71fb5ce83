-- audit_row.sql -- appended to roster.sql by bench_episodes.sh: the read's
-- audit row committed on its own, which is what each read would cost
-- without the service's group commit of audit rows (common/hw_audit.c).
INSERT INTO episodes.audit (subject, roles, org, action, record_type, record_id, purpose, request_id)
VALUES ('bench-spoc', 'spoc', 'force-staffs', '/homeward.episodes.v1.Episodes/GetHomeRoster',
        'home_roster', :home, 'bench', NULL);
