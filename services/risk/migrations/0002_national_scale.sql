-- 0002_national_scale.sql -- R-RISK-1: current national practice names the
-- lowest level "very low risk". New assessments are made under scale 2;
-- records made under scale 1 keep their label ("No apparent risk (absent)").
INSERT INTO risk_scales (version, name, source, current) VALUES
  (2, 'Very low / low / medium / high', 'College of Policing APP on missing persons (current)', false);
INSERT INTO risk_levels (scale_version, code, label, rank, definition) VALUES
  (2, 'very_low', 'Very low risk', 0,
   'There is no apparent risk of harm to either the subject or the public.'),
  (2, 'low', 'Low risk', 1,
   'The risk of harm to the subject or the public is assessed as possible but minimal.'),
  (2, 'medium', 'Medium risk', 2,
   'The risk of harm to the subject or the public is assessed as likely but not serious.'),
  (2, 'high', 'High risk', 3,
   'The risk of serious harm to the subject or the public is assessed as very likely.');
UPDATE risk_scales SET current = false WHERE version = 1;
UPDATE risk_scales SET current = true WHERE version = 2;
