-- 0001_reference.sql -- the instruments of the protocol as reference data
-- (R-RISK-1, R-RISK-3, R-RISK-7, R-RISK-8, R-RISK-9, R-CPS-1): the documents'
-- risk scale (version 1), the profile rules, the NDMM and CMD question sets,
-- the CPS 10-point checklist, the CSE Risk Factor Matrix indicators with
-- category and weight (App. 2), the LAC risk assessment indicators (App. 1)
-- and the risk evaluation matrix (App. 7). Apps render forms from
-- GetReferenceData; a change of wording or weight is a new migration.

CREATE TABLE risk_scales (
    version     int PRIMARY KEY,
    name        text NOT NULL,
    source      text NOT NULL,
    current     boolean NOT NULL DEFAULT false
);
-- At most one scale is the one new assessments are made under.
CREATE UNIQUE INDEX risk_scales_one_current ON risk_scales (current) WHERE current;

CREATE TABLE risk_levels (
    scale_version int NOT NULL REFERENCES risk_scales(version),
    code        text NOT NULL,
    label       text NOT NULL,
    rank        int NOT NULL CHECK (rank BETWEEN 0 AND 3),
    definition  text NOT NULL,
    PRIMARY KEY (scale_version, code),
    UNIQUE (scale_version, rank)
);

-- R-RISK-1: the lowest level a profile records for a missing child.
CREATE TABLE profile_rules (
    profile     text PRIMARY KEY,
    lowest_missing_rank int NOT NULL CHECK (lowest_missing_rank BETWEEN 0 AND 3),
    source      text NOT NULL
);

CREATE TABLE question_sets (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    source      text NOT NULL
);

-- raises_to_rank: the level a "yes" concern raises the proposal to
-- (R-RISK-3); NULL for descriptive questions, which do not grade and do
-- not count towards "little knowledge" (R-RISK-4). The grading is this
-- service's reading of the questions, kept as data so it can be reviewed.
CREATE TABLE questions (
    code        text PRIMARY KEY,
    set_code    text NOT NULL REFERENCES question_sets(code),
    number      int NOT NULL,
    section     text NOT NULL DEFAULT '',
    text        text NOT NULL,
    raises_to_rank int CHECK (raises_to_rank BETWEEN 0 AND 3),
    UNIQUE (set_code, number)
);

CREATE TABLE cse_indicators (
    code        text PRIMARY KEY,
    category    text NOT NULL,
    text        text NOT NULL,
    weight      text NOT NULL CHECK (weight IN ('low', 'medium', 'high')),
    position    int NOT NULL UNIQUE,
    note        text
);

CREATE TABLE lac_indicators (
    code        text PRIMARY KEY,
    section     text NOT NULL,
    text        text NOT NULL,
    position    int NOT NULL UNIQUE
);

CREATE TABLE evaluation_items (
    code        text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('vulnerability', 'risk_indicator')),
    text        text NOT NULL,
    position    int NOT NULL UNIQUE
);

-- STAFFS 6.1 and LLR p.5 (College of Policing APP as the documents quote it).
INSERT INTO risk_scales (version, name, source, current) VALUES
  (1, 'No apparent risk / low / medium / high', 'STAFFS 6.1; LLR p.5', true);
INSERT INTO risk_levels (scale_version, code, label, rank, definition) VALUES
  (1, 'no_apparent_risk', 'No apparent risk (absent)', 0,
   'There is no apparent risk of harm to either the subject or the public.'),
  (1, 'low', 'Low risk', 1,
   'The risk of harm to the subject or the public is assessed as possible but minimal.'),
  (1, 'medium', 'Medium risk', 2,
   'The risk of harm to the subject or the public is assessed as likely but not serious.'),
  (1, 'high', 'High risk', 3,
   'The risk of serious harm to the subject or the public is assessed as very likely.');

INSERT INTO profile_rules (profile, lowest_missing_rank, source) VALUES
  ('STAFFS', 0, 'STAFFS 6.1, 12.5'),
  ('LLR', 2, 'LLR p.5: a missing child is recorded only as medium or high');

INSERT INTO question_sets (code, name, source) VALUES
  ('ndmm', 'NDMM questions', 'STAFFS 12.4'),
  ('cmd', 'CMD question set', 'LLR p.8-9'),
  ('cps', 'CPS 10-point checklist', 'LLR p.22');

INSERT INTO questions (code, set_code, number, section, text, raises_to_rank) VALUES
  ('ndmm.1', 'ndmm', 1, '', 'What is the specific concern in this instance?', 2),
  ('ndmm.2', 'ndmm', 2, '', 'What has been done so far to trace the person?', NULL),
  ('ndmm.3', 'ndmm', 3, '', 'Is this significantly out of character?', 2),
  ('ndmm.4', 'ndmm', 4, '', 'Are there any specific medical needs?', 2),
  ('ndmm.5', 'ndmm', 5, '', 'Are they likely to be subjected to crime?', 2),
  ('ndmm.6', 'ndmm', 6, '', 'Are they likely to be the victim of abuse?', 3),
  ('ndmm.7', 'ndmm', 7, '', 'Are they currently at risk of sexual exploitation?', 3),
  ('ndmm.8', 'ndmm', 8, '', 'Are they likely to attempt suicide?', 3),
  ('ndmm.9', 'ndmm', 9, '', 'Do they pose a danger to other people?', 3),
  ('ndmm.10', 'ndmm', 10, '', 'Is there any other information?', NULL),
  ('cmd.1', 'cmd', 1, '', 'Detail the brief circumstances of going missing', NULL),
  ('cmd.2', 'cmd', 2, '', 'Where, when last seen and by whom?', NULL),
  ('cmd.3', 'cmd', 3, '', 'What has been done so far to trace this individual?', NULL),
  ('cmd.4', 'cmd', 4, '', 'What is the description of the person including clothing?', NULL),
  ('cmd.5', 'cmd', 5, '', 'Is this significantly out of character, if so why?', 2),
  ('cmd.6', 'cmd', 6, '', 'What is the specific concern in this instance (if any)? (e.g. vulnerable due to age, infirmity, mental health or physical illness)', 2),
  ('cmd.7', 'cmd', 7, '', 'Any last known intentions or preparations made prior to going missing?', NULL),
  ('cmd.8', 'cmd', 8, '', 'Have they taken any personal items with them - clothing, passport etc?', NULL),
  ('cmd.9', 'cmd', 9, '', 'Identify any place they may go to and why: specific interest or to find solace/peace and quiet?', NULL),
  ('cmd.10', 'cmd', 10, '', 'Do they have a mobile phone in their possession? (Network and Phone Number required)', NULL),
  ('cmd.11', 'cmd', 11, '', 'What is the person''s last known Home Address?', NULL),
  ('cmd.12', 'cmd', 12, '', 'Are they subject to any Mental Health Section - if so what and why?', 3),
  ('cmd.13', 'cmd', 13, '', 'Are they likely to be a victim of crime - if so why?', 2),
  ('cmd.14', 'cmd', 14, '', 'Are they likely to be the victim of abuse - if so explain? (Domestic / Sexual / Racial / Homophobic)', 3),
  ('cmd.15', 'cmd', 15, '', 'Are they likely to self-harm, attempt suicide - give details', 3),
  ('cmd.16', 'cmd', 16, '', 'Have they been exposed to harm in any previous missing episode - give details', 2),
  ('cmd.17', 'cmd', 17, '', 'Are there any specific medical needs that require medication and if this isn''t available what are the effects and timescales.', 2),
  ('cmd.18', 'cmd', 18, '', 'Are they currently at risk of sexual exploitation or on Child Protection register - If so from whom?', 3),
  ('cmd.19', 'cmd', 19, '', 'Do they pose a danger to themselves or any other persons?', 3),
  ('cmd.20', 'cmd', 20, '', 'Do they have a history of drug or alcohol abuse (give details)?', 2),
  ('cmd.21', 'cmd', 21, '', 'Details of any vehicle used or normal mode of transport if none.', NULL),
  ('cmd.22', 'cmd', 22, '', 'Details of messaging and social media used including usernames and passwords if known.', NULL),
  ('cmd.23', 'cmd', 23, '', 'What access do they have to money?', NULL),
  ('cmd.24', 'cmd', 24, '', 'Any other relevant information which may affect risk assessment', NULL),
  ('cps.1', 'cps', 1, 'at once', 'Disciplinary policy of care provider?', NULL),
  ('cps.2', 'cps', 2, 'at once', 'Why have the police been involved and is it as agreed in the policy?', NULL),
  ('cps.3', 'cps', 3, 'within 3 days', 'Any informal / disciplinary action already taken? (Since incident)', NULL),
  ('cps.4', 'cps', 4, 'within 3 days', 'Any apology/reparation? (Since incident)', NULL),
  ('cps.5', 'cps', 5, 'within 3 days', 'Victim''s views? (willingness for restorative intervention etc)', NULL),
  ('cps.6', 'cps', 6, 'within 3 days', 'Social worker''s views? (including any other involved professional)', NULL),
  ('cps.7', 'cps', 7, 'within 3 days', 'Care plan for Looked after Child?', NULL),
  ('cps.8', 'cps', 8, 'at once', 'Recent behaviour/incidents regarding looked-after child?', NULL),
  ('cps.9', 'cps', 9, 'at once', 'Information about incident from Looked after Child?', NULL),
  ('cps.10', 'cps', 10, 'at once', 'Aggravating or mitigating features? (CPS / POLICE to complete)', NULL);

-- App. 2, in the order of the form. The weight is the column ticked in the
-- source; where the source's tick box was not legible the weight is noted.
INSERT INTO cse_indicators (code, category, text, weight, position, note) VALUES
  ('cse.abuse_neglect.1', 'Abuse / Neglect', 'History of abuse or neglect', 'low', 1, NULL),
  ('cse.abuse_neglect.2', 'Abuse / Neglect', 'Current experience of abuse or neglect', 'medium', 2, NULL),
  ('cse.abduction.1', 'Abduction', 'Thought to have been abducted', 'high', 3, NULL),
  ('cse.abduction.2', 'Abduction', 'Child states they have been abducted (please refer to guidance notes)', 'high', 4, NULL),
  ('cse.alcohol_drug_use.1', 'Alcohol/ Drug Use', 'Experimenting with alcohol, recreational drugs or other substances including novel psychotic substances (please refer to guidance notes)', 'low', 5, NULL),
  ('cse.alcohol_drug_use.2', 'Alcohol/ Drug Use', 'Involvement in petty crime e.g. shoplifting', 'low', 6, NULL),
  ('cse.alcohol_drug_use.3', 'Alcohol/ Drug Use', 'Current involvement with criminal justice system', 'low', 7, NULL),
  ('cse.alcohol_drug_use.4', 'Alcohol/ Drug Use', 'Regular use of alcohol or recreational drugs – cannabis; novel psychotic substances', 'medium', 8, NULL),
  ('cse.alcohol_drug_use.5', 'Alcohol/ Drug Use', 'Repeat offending / Escalating anti-social or criminal behaviour', 'medium', 9, NULL),
  ('cse.alcohol_drug_use.6', 'Alcohol/ Drug Use', 'Use of Class A drugs (please refer to guidance notes)', 'high', 10, NULL),
  ('cse.alcohol_drug_use.7', 'Alcohol/ Drug Use', 'Long term / prolific alcohol or drug use / dependence on alcohol or drugs', 'high', 11, NULL),
  ('cse.alcohol_drug_use.8', 'Alcohol/ Drug Use', 'Significant offending', 'high', 12, NULL),
  ('cse.alcohol_drug_use.9', 'Alcohol/ Drug Use', 'Taking part in sexually offending behaviour', 'high', 13, NULL),
  ('cse.associations.1', 'Associations', 'Associating with unknown peers/ associating with older peers', 'low', 14, NULL),
  ('cse.associations.2', 'Associations', 'Associating with unknown adults', 'low', 15, NULL),
  ('cse.associations.3', 'Associations', 'Associating with an adult or peer thought to pose risk to children', 'medium', 16, NULL),
  ('cse.associations.4', 'Associations', 'Associating with children thought at risk of being sexually exploited', 'medium', 17, NULL),
  ('cse.associations.5', 'Associations', 'New contacts with people not local to the area', 'medium', 18, NULL),
  ('cse.associations.6', 'Associations', 'Reports that child is involved in sexual exploitation or has been seen in “hot spot” locations', 'medium', 19, NULL),
  ('cse.associations.7', 'Associations', 'Associating with an adult known to pose risk to children', 'high', 20, NULL),
  ('cse.associations.8', 'Associations', 'Travelling unaccompanied to meet an adult known to pose risk / an unknown adult', 'high', 21, NULL),
  ('cse.associations.9', 'Associations', 'Entering vehicles or travelling with an adult known to pose risk/ an unknown adult', 'high', 22, NULL),
  ('cse.associations.10', 'Associations', 'Frequenting locations with adults known to be a risk', 'high', 23, NULL),
  ('cse.associations.11', 'Associations', 'Possessing keys to unknown properties', 'high', 24, NULL),
  ('cse.behaviour_presentation.1', 'Behaviour/Presentation', 'Displaying a change in behaviour/ presentation/ mood/ attitude/ appearance', 'medium', 25, NULL),
  ('cse.behaviour_presentation.2', 'Behaviour/Presentation', 'Volatile/ abusive behaviour / aggression to family member, carer or animal', 'high', 26, NULL),
  ('cse.bereavement.1', 'Bereavement', 'Bereavement or loss impacting upon behaviour or mental health', 'low', 27, NULL),
  ('cse.bullying.1', 'Bullying', 'Being bullied and / or bullying others', 'low', 28, NULL),
  ('cse.coercion_control.1', 'Coercion/Control', 'Reduced contact with family or friends', 'low', 29, NULL),
  ('cse.coercion_control.2', 'Coercion/Control', 'Detachment/ isolation', 'medium', 30, NULL),
  ('cse.coercion_control.3', 'Coercion/Control', 'Threats made to child, family or home / child experiencing or threatened with violence or intimidating behaviour', 'medium', 31, NULL),
  ('cse.coercion_control.4', 'Coercion/Control', 'Child has engaged in sexual activity as a result of feeling threatened, coerced or intimidated', 'high', 32, NULL),
  ('cse.coercion_control.5', 'Coercion/Control', 'Child experiencing sexual violence or bullying', 'high', 33, NULL),
  ('cse.coercion_control.6', 'Coercion/Control', 'Receiving payment or reward for recruiting others into exploitative or abusive situations', 'high', 34, NULL),
  ('cse.coercion_control.7', 'Coercion/Control', 'Apparent use of mobile device or social media by another to control/ monitor', 'high', 35, NULL),
  ('cse.disability.1', 'Disability', 'Has a disability/ learning disability or difficulty which impacts upon capacity to consent, decision making or perception of risk taking behaviour', 'low', 36, NULL),
  ('cse.education_training.1', 'Education/Training', 'Multiple change of education provider', 'low', 37, NULL),
  ('cse.education_training.2', 'Education/Training', 'Educated at home', 'low', 38, NULL),
  ('cse.education_training.3', 'Education/Training', 'Temporary exclusion', 'medium', 39, NULL),
  ('cse.education_training.4', 'Education/Training', 'Sporadic or poor attendance', 'medium', 40, NULL),
  ('cse.education_training.5', 'Education/Training', 'Reduced timetable/ disengagement from school/lessons', 'medium', 41, NULL),
  ('cse.education_training.6', 'Education/Training', 'Permanent exclusion', 'high', 42, NULL),
  ('cse.engagement_in_adult_activity.1', 'Engagement in adult activity', 'Accessing pornography', 'medium', 43, 'weight not legible in the source: medium (R-RISK-4, the higher when unsure)'),
  ('cse.engagement_in_adult_activity.2', 'Engagement in adult activity', 'Introduction to adult activities (Isolated incident of attending an inappropriate or unsupervised party or other 18+ venue such as a nightclub)', 'medium', 44, NULL),
  ('cse.engagement_in_adult_activity.3', 'Engagement in adult activity', 'Exposure to pornography by another person', 'medium', 45, NULL),
  ('cse.engagement_in_adult_activity.4', 'Engagement in adult activity', 'Continued participation in adult activity (multiple incidents of attending an inappropriate or unsupervised party or other 18+ venue such as a nightclub)', 'high', 46, NULL),
  ('cse.exchanging_sexual_activity_for_goods_money.1', 'Exchanging sexual activity for goods, money', 'Clipping – promising sexual activity for money, goods etc. and then running off', 'medium', 47, NULL),
  ('cse.exchanging_sexual_activity_for_goods_money.2', 'Exchanging sexual activity for goods, money', 'Receiving gifts/ unaccounted for money/ mobile phone top ups/ bank deposits', 'high', 48, NULL),
  ('cse.family.1', 'Family', 'Relationship breakdown', 'low', 49, NULL),
  ('cse.family.2', 'Family', 'Parent, carer or sibling health problem / disability', 'low', 50, NULL),
  ('cse.family.3', 'Family', 'Poor communication', 'low', 51, NULL),
  ('cse.family.4', 'Family', 'Reduced contact with family or friends', 'low', 52, NULL),
  ('cse.family.5', 'Family', 'Low warmth, high criticism household', 'low', 53, NULL),
  ('cse.family.6', 'Family', 'Parent(s) or carers not coping with behaviour', 'medium', 54, NULL),
  ('cse.family.7', 'Family', 'Neglect – including associated domestic abuse / alcohol or drug use / mental health problems', 'medium', 55, NULL),
  ('cse.family.8', 'Family', 'Lack of boundaries related to CSE issues', 'medium', 56, NULL),
  ('cse.family.9', 'Family', 'Parent/ carer colluding with inappropriate sexual behaviours/ relationships', 'high', 57, NULL),
  ('cse.family.10', 'Family', 'Family/ carer unable to keep child safe', 'high', 58, NULL),
  ('cse.gang_association_involvement.1', 'Gang Association / Involvement', 'Gang association', 'low', 59, NULL),
  ('cse.gang_association_involvement.2', 'Gang Association / Involvement', 'Evidence of gang involvement associated with CSE activity/ initiation', 'high', 60, NULL),
  ('cse.home.1', 'Home', 'History of being in care', 'low', 61, NULL),
  ('cse.home.2', 'Home', 'Unknown adult visitors to home', 'low', 62, NULL),
  ('cse.home.3', 'Home', 'Alone at home for significant periods of time', 'low', 63, NULL),
  ('cse.home.4', 'Home', 'Presenting as homeless', 'medium', 64, NULL),
  ('cse.home.5', 'Home', 'Numerous house moves (Transient)', 'medium', 65, NULL),
  ('cse.home.6', 'Home', 'No stable home/ multiple placement breakdowns/ living with friends/ private fostering arrangement/ wants to move into care', 'medium', 66, NULL),
  ('cse.home.7', 'Home', 'Adult/peers visiting home address who pose a potential risk to child', 'medium', 67, NULL),
  ('cse.mental_health_and_wellbeing.1', 'Mental health and Wellbeing', 'Low self-esteem, poor self-image, anxiety or social isolation', 'low', 68, NULL),
  ('cse.mental_health_and_wellbeing.2', 'Mental health and Wellbeing', 'Diagnosed depression or other mental health condition', 'low', 69, NULL),
  ('cse.mental_health_and_wellbeing.3', 'Mental health and Wellbeing', 'Significantly high confidence/self-esteem', 'low', 70, NULL),
  ('cse.mental_health_and_wellbeing.4', 'Mental health and Wellbeing', 'Historic / current self-harm (no medical or psychiatric intervention)', 'medium', 71, 'weight not legible in the source: medium (R-RISK-4, the higher when unsure)'),
  ('cse.mental_health_and_wellbeing.5', 'Mental health and Wellbeing', 'Significant self-harm (medical/psychiatric intervention)', 'medium', 72, NULL),
  ('cse.mental_health_and_wellbeing.6', 'Mental health and Wellbeing', 'Eating disorder', 'medium', 73, NULL),
  ('cse.mental_health_and_wellbeing.7', 'Mental health and Wellbeing', 'Suicidal thoughts, ideation or attempts', 'high', 74, NULL),
  ('cse.mental_health_and_wellbeing.8', 'Mental health and Wellbeing', 'Socially/ emotionally detached', 'high', 75, NULL),
  ('cse.missing.1', 'Missing', 'History of going missing', 'low', 76, NULL),
  ('cse.missing.2', 'Missing', 'Recent missing episode', 'low', 77, NULL),
  ('cse.missing.3', 'Missing', 'Late / missing during the day / leaving early (please refer to guidance notes)', 'low', 78, NULL),
  ('cse.missing.4', 'Missing', 'Regularly going out late and / or going missing Staying out overnight with no plausible explanation', 'medium', 79, NULL),
  ('cse.missing.5', 'Missing', 'Getting into cars with unknown adults or peers', 'medium', 80, NULL),
  ('cse.missing.6', 'Missing', 'Missing episodes escalating in terms of length of time and / or frequency', 'high', 81, NULL),
  ('cse.missing.7', 'Missing', 'Persistently missing, staying out overnight or returning late with no plausible explanations', 'high', 82, NULL),
  ('cse.physical_sexual_assault.1', 'Physical/Sexual Assault', 'Within family/ other', 'low', 83, NULL),
  ('cse.physical_sexual_assault.2', 'Physical/Sexual Assault', 'Previous allegation of physical/ sexual assault / injury withdrawn', 'medium', 84, NULL),
  ('cse.physical_sexual_assault.3', 'Physical/Sexual Assault', 'Within “relationship”', 'high', 85, NULL),
  ('cse.physical_sexual_assault.4', 'Physical/Sexual Assault', 'Marks / tattoos / tags', 'high', 86, NULL),
  ('cse.pregnancy.1', 'Pregnancy', 'Pregnant/Young Parent', 'low', 87, NULL),
  ('cse.pregnancy.2', 'Pregnancy', 'Previous pregnancy/termination/Wants baby/', 'medium', 88, 'weight not legible in the source: medium (R-RISK-4, the higher when unsure)'),
  ('cse.pregnancy.3', 'Pregnancy', 'Concealed pregnancy', 'medium', 89, NULL),
  ('cse.pregnancy.4', 'Pregnancy', 'Unwilling to share information about father', 'medium', 90, NULL),
  ('cse.pregnancy.5', 'Pregnancy', 'Multiple pregnancies/ terminations/ miscarriages', 'high', 91, NULL),
  ('cse.relationships.1', 'Relationships', 'Unsure of or fluid sexual orientation', 'low', 92, NULL),
  ('cse.relationships.2', 'Relationships', 'Unable to disclose sexuality or gender identity to family/friends', 'low', 93, NULL),
  ('cse.relationships.3', 'Relationships', 'Older “boyfriend” or “girlfriend”', 'medium', 94, NULL),
  ('cse.sexual_activity_and_behaviours.1', 'Sexual Activity and Behaviours', 'Early onset of sexual activity (15 or under)', 'low', 95, NULL),
  ('cse.sexual_activity_and_behaviours.2', 'Sexual Activity and Behaviours', 'Inappropriate sexual behaviour – comments, exposure, inappropriate touch', 'medium', 96, NULL),
  ('cse.sexual_activity_and_behaviours.3', 'Sexual Activity and Behaviours', 'High number of sexual partners or high rates of sexual activity', 'high', 97, NULL),
  ('cse.sexual_activity_and_behaviours.4', 'Sexual Activity and Behaviours', 'multiple individuals engaged in sexual activity at one time; or multiple partners within short time periods (please refer to guidance notes)', 'high', 98, NULL),
  ('cse.sexual_activity_and_behaviours.5', 'Sexual Activity and Behaviours', 'Child under 13 engaging in sexual activity (Safeguarding referral MUST be completed where this indicator is selected – please refer to guidance notes)', 'high', 99, NULL),
  ('cse.sexual_activity_and_behaviours.6', 'Sexual Activity and Behaviours', 'Meeting adults and engaged in sexual activity', 'high', 100, NULL),
  ('cse.sexual_health.1', 'Sexual Health', 'Unprotected sex', 'low', 101, NULL),
  ('cse.sexual_health.2', 'Sexual Health', 'Sexually Transmitted Infection (STI)', 'low', 102, NULL),
  ('cse.sexual_health.3', 'Sexual Health', 'Multiple STIs/ Recurrent UTIs', 'medium', 103, NULL),
  ('cse.sexual_health.4', 'Sexual Health', 'Frequent attendance at Sexual Health Clinics', 'high', 104, NULL),
  ('cse.sexual_health.5', 'Sexual Health', 'Repeat access to EHC (Emergency contraception)', 'high', 105, NULL),
  ('cse.sexual_health.6', 'Sexual Health', 'Untreated/ Frequent/ Recurrent STIs', 'high', 106, NULL),
  ('cse.social_media_technology.1', 'Social Media/ Technology', 'Increased time spent accessing the internet, social media or gaming platforms', 'low', 107, NULL),
  ('cse.social_media_technology.2', 'Social Media/ Technology', 'Seeming to be more involved with social media world than with family and friends', 'low', 108, NULL),
  ('cse.social_media_technology.3', 'Social Media/ Technology', 'Unsafe use of internet – low/ no security, posting personal details, etc. including befriending unknown individuals online', 'low', 109, NULL),
  ('cse.social_media_technology.4', 'Social Media/ Technology', 'Photographing/ filming self and sharing (Indecent images)', 'medium', 110, NULL),
  ('cse.social_media_technology.5', 'Social Media/ Technology', 'Engaging in an inappropriate online friendship / relationship', 'medium', 111, NULL),
  ('cse.social_media_technology.6', 'Social Media/ Technology', 'High number of contacts on social media including unknown adults / peers', 'medium', 112, NULL),
  ('cse.social_media_technology.7', 'Social Media/ Technology', 'Accessing inappropriate networking forums – dating websites, specialist forums for anorexia, self-harm, sexual fetish etc.', 'medium', 113, NULL),
  ('cse.social_media_technology.8', 'Social Media/ Technology', 'Child under 16 receiving sexual communication from an adult (Online and offline communication, including social media, e-mail, texts, letters etc.)', 'medium', 114, NULL),
  ('cse.social_media_technology.9', 'Social Media/ Technology', 'Using uncommon communication apps or platforms suggested to them by an unknown adult/peer', 'medium', 115, NULL),
  ('cse.social_media_technology.10', 'Social Media/ Technology', 'Meeting contacts from dating websites or forums in person', 'high', 116, NULL),
  ('cse.social_media_technology.11', 'Social Media/ Technology', 'Being photographed/ filmed by someone else (Indecent images)', 'high', 117, NULL),
  ('cse.trafficking.1', 'Trafficking', 'Thought to have been moved for the purpose of sexual exploitation (Incl. multiple perpetrators, consenting or not, domestic/ national/ international)', 'high', 118, NULL);

-- App. 1 risk indicators.
INSERT INTO lac_indicators (code, section, text, position) VALUES
  ('lac.pattern.1', 'Pattern and History', 'What are the usual circumstances of the child going missing i.e. is the child running to someone or from a situation? When does the child usually leave the home?', 1),
  ('lac.pattern.2', 'Pattern and History', 'When was the last episode and is there a pattern?', 2),
  ('lac.pattern.3', 'Pattern and History', 'Where do they usually go? I.e. with family or friends or with people who are unknown or undesirable. Is there any specific risk if they go there?', 3),
  ('lac.pattern.4', 'Pattern and History', 'Level of maturity child has shown in being able to make decisions about themselves or others. How able is the child to cope without adult support?', 4),
  ('lac.pattern.5', 'Pattern and History', 'Past method of return i.e. via family or on their own?', 5),
  ('lac.concerns.1', 'Concerns/Vulnerabilities', 'Any concerns about mental health?', 6),
  ('lac.concerns.2', 'Concerns/Vulnerabilities', 'Risk of suicide/self-harm and what are the indicators of this?', 7),
  ('lac.concerns.3', 'Concerns/Vulnerabilities', 'Medication/medical condition?', 8),
  ('lac.concerns.4', 'Concerns/Vulnerabilities', 'Physical or learning disability/difficulties?', 9),
  ('lac.concerns.5', 'Concerns/Vulnerabilities', 'Likely use of drugs/alcohol/solvents and what type and amount?', 10),
  ('lac.concerns.6', 'Concerns/Vulnerabilities', 'Risk of sexual exploitation and have sexual exploitation protocols been activated? Any previous harm suffered while missing?', 11),
  ('lac.concerns.7', 'Concerns/Vulnerabilities', 'Any concerns about new friends/partners/associates?', 12),
  ('lac.concerns.8', 'Concerns/Vulnerabilities', 'Past involvement of offending and in what form? Is the child''s behaviour likely to be a risk to the community and in what way?', 13),
  ('lac.concerns.9', 'Concerns/Vulnerabilities', 'Are they experiencing bullying/racial and/or homophobic abuse? Any signs or indicators that child is experiencing difficulties or abuse in the placement?', 14),
  ('lac.concerns.10', 'Concerns/Vulnerabilities', 'Does the child want to live in the current placement?', 15),
  ('lac.concerns.11', 'Concerns/Vulnerabilities', 'Any concern of abduction or being prevented from returning? Is there a risk of forced marriage?', 16),
  ('lac.concerns.12', 'Concerns/Vulnerabilities', 'Are there any known issues/events happening in the child''s family or close friends?', 17),
  ('lac.concerns.13', 'Concerns/Vulnerabilities', 'Any concerns that the child has been radicalised or is vulnerable to extremist influencers.', 18),
  ('lac.current.1', 'Current Circumstances', 'What are the agreed coming-in times?', 19),
  ('lac.current.2', 'Current Circumstances', 'Do they have access to any money and how, if necessary will they obtain this?', 20),
  ('lac.current.3', 'Current Circumstances', 'Is the child able to use public transport?', 21),
  ('lac.current.4', 'Current Circumstances', 'Does the child usually carry a bus pass?', 22),
  ('lac.current.5', 'Current Circumstances', 'Is the child familiar with the surrounding area?', 23),
  ('lac.current.6', 'Current Circumstances', 'How many mobiles do they have?', 24),
  ('lac.current.7', 'Current Circumstances', 'Any further information and knowledge', 25);

-- App. 7: known vulnerabilities and risk indicators.
INSERT INTO evaluation_items (code, kind, text, position) VALUES
  ('vuln.learning_difficulties', 'vulnerability', 'Learning difficulties or disabilities', 1),
  ('vuln.looked_after', 'vulnerability', 'Looked After', 2),
  ('vuln.mental_ill_health', 'vulnerability', 'Mental ill health', 3),
  ('vuln.reduced_timetable', 'vulnerability', 'Reduced educational timetable', 4),
  ('vuln.exclusions', 'vulnerability', 'Exclusions from school', 5),
  ('vuln.pru', 'vulnerability', 'PRU attendance', 6),
  ('vuln.cse', 'vulnerability', 'CSE', 7),
  ('vuln.abduction_notices', 'vulnerability', 'Abduction notice(s)', 8),
  ('vuln.trafficking', 'vulnerability', 'Trafficking', 9),
  ('vuln.self_harm', 'vulnerability', 'Self harm', 10),
  ('vuln.forced_marriage', 'vulnerability', 'Forced marriage', 11),
  ('vuln.honour_based_violence', 'vulnerability', 'Honour based violence', 12),
  ('vuln.sexual_orientation_gender_identity', 'vulnerability', 'Sexual orientation or gender identity', 13),
  ('vuln.language_communication', 'vulnerability', 'Language or communication difficulties', 14),
  ('vuln.gang_associations', 'vulnerability', 'Gang associations', 15),
  ('vuln.missing_frequency_length', 'vulnerability', 'Frequency and/or length of missing episodes', 16),
  ('vuln.other', 'vulnerability', 'Other', 17),
  ('ind.alcohol_misuse', 'risk_indicator', 'Alcohol misuse', 18),
  ('ind.drug_misuse', 'risk_indicator', 'Drug misuse', 19),
  ('ind.offending', 'risk_indicator', 'Involved in offending or offending behaviour', 20),
  ('ind.victim_of_violence', 'risk_indicator', 'Victim of violence', 21),
  ('ind.victim_of_cse', 'risk_indicator', 'Victim of CSE', 22),
  ('ind.victim_of_other_offending', 'risk_indicator', 'Victim of other offending or offending behaviour', 23),
  ('ind.adults_posing_risk', 'risk_indicator', 'Association with adults who pose a risk', 24),
  ('ind.dangerous_situations', 'risk_indicator', 'Drawn into dangerous situations', 25),
  ('ind.location_and_places', 'risk_indicator', 'Location and places', 26);
