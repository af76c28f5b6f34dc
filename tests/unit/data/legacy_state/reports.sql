BEGIN TRANSACTION;
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL UNIQUE,
    report_id TEXT NOT NULL,
    scored_seq INTEGER NOT NULL REFERENCES scored (seq),
    decided_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    analyst TEXT NOT NULL,
    action TEXT NOT NULL,
    priority INTEGER NOT NULL,
    designation TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    suggested_priority INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    supersedes TEXT
);
INSERT INTO "decisions" VALUES(1,'25f58a3c041f4b79b62da49775401ea2','old-0',1,'2026-11-27T14:08:43.816+00:00','key-2','Analyst A','override',1,'referral','other','',3,'tip-escalation/7',NULL);
CREATE TABLE queue (
    report_id TEXT PRIMARY KEY,
    scored_seq INTEGER NOT NULL,
    decision_seq INTEGER,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    esp TEXT,
    decided INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "queue" VALUES('old-0',1,1,3,0.001,'Snapchat',1);
INSERT INTO "queue" VALUES('old-1',2,NULL,1,0.2,'Snapchat',0);
INSERT INTO "queue" VALUES('old-2',3,NULL,2,0.01,'Snapchat',0);
CREATE TABLE scored (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    scored_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    esp TEXT,
    incident_type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    model_version TEXT NOT NULL,
    deadline TEXT,
    codes TEXT NOT NULL,
    response TEXT NOT NULL,
    flat TEXT NOT NULL
);
INSERT INTO "scored" VALUES(1,'old-0','req-0','2026-11-27T14:08:43.806+00:00','2024-12-01T10:00:00+00:00','Snapchat','Online Enticement of Children for Sexual Acts',3,0.001,'tip-escalation/7',NULL,'[]','{"report_id":"old-0","escalation_probability":0.001,"suggested_priority":3,"thresholds":{"p1":0.05,"p2":0.004,"p1_share":0.005,"p12_share":0.05,"policy":"test"},"model_name":"tip-escalation","model_version":"7","explanation":{"scale":"log-odds","base_value":-8.0,"raw_score":-5.0,"note":"n","contributions":[]},"warnings":[],"suggestion_only":"a suggested priority with its reasons; an analyst decides, nothing is acted on automatically"}','{"report_id": "old-0", "incident_type": "Online Enticement of Children for Sexual Acts", "incident_at": "2024-06-01T10:00:00+00:00", "received_at": "2024-12-01T10:00:00+00:00", "reporter_type": "esp", "esp": "Snapchat", "esp_escalated": false, "ann_sextortion": false, "ann_csam_solicitation": false, "ann_minor_to_minor_interaction": false, "ann_spam": false, "ann_sadistic_online_exploitation": false, "inc_web_page": false, "inc_email": false, "inc_newsgroup": false, "inc_chat_im": false, "inc_online_gaming": false, "inc_cell_phone": false, "inc_peer_to_peer": false, "inc_non_internet": false, "rp_count": 1, "rp_ip_events": 0, "rp_device_ids": 0, "rp_prior_ct_reports": 0, "rp_esp_user_id": true, "rp_screen_name": false, "rp_email": true, "rp_phone": false, "rp_upload_ip": false, "rp_age_or_dob": false, "rp_estimated_location": false, "rp_account_temporarily_disabled": false, "rp_account_permanently_disabled": false, "victims_count": 0, "victims_minor_stated": false, "recipients_count": 0, "recipients_minor_stated": false, "country_code": "US", "location_source": "supplied", "bundle_batched": false, "bundle_incident_count": 1, "files_count": 2, "files_image": 1, "files_video": 1, "files_viewed": 1, "files_exif_viewed": 0, "files_public": 0, "files_supplemental": 0, "files_upload_ip": 0, "files_hash_known": 0, "files_hash_novel": 0, "files_tag_anime_drawing_virtual_hentai": 0, "files_tag_potential_meme": 0, "files_tag_viral": 0, "files_tag_possible_self_production": 0, "files_tag_physical_harm": 0, "files_tag_violence_gore": 0, "files_tag_bestiality": 0, "files_tag_live_streaming": 0, "files_tag_infant": 0, "files_tag_generative_ai": 0, "files_class_a1": 0, "files_class_a2": 0, "files_class_b1": 0, "files_class_b2": 0, "link_accounts": ["f31e958952b4c9aa83f2a61bf2898df9cc2dc6d10573ecbaa3c27c438c8a51d8"], "link_emails": ["160a7fbe3399e78ec22e0dc7b3fb72a4e77dcb078500ffbd05e60c1998b2ac51"], "link_phones": [], "link_ips": ["0950da73ddbb30990c87859f31f87c4f6831a8cd51aa81e66d446fc1e74bca00"], "link_devices": [], "link_file_hashes": []}');
INSERT INTO "scored" VALUES(2,'old-1','req-1','2026-11-27T14:08:43.806+00:00','2024-12-02T10:00:00+00:00','Snapchat','Online Enticement of Children for Sexual Acts',1,0.2,'tip-escalation/7',NULL,'[]','{"report_id":"old-1","escalation_probability":0.2,"suggested_priority":1,"thresholds":{"p1":0.05,"p2":0.004,"p1_share":0.005,"p12_share":0.05,"policy":"test"},"model_name":"tip-escalation","model_version":"7","explanation":{"scale":"log-odds","base_value":-8.0,"raw_score":-5.0,"note":"n","contributions":[]},"warnings":[],"suggestion_only":"a suggested priority with its reasons; an analyst decides, nothing is acted on automatically"}','{"report_id": "old-1", "incident_type": "Online Enticement of Children for Sexual Acts", "incident_at": "2024-06-01T10:00:00+00:00", "received_at": "2024-12-02T10:00:00+00:00", "reporter_type": "esp", "esp": "Snapchat", "esp_escalated": false, "ann_sextortion": false, "ann_csam_solicitation": false, "ann_minor_to_minor_interaction": false, "ann_spam": false, "ann_sadistic_online_exploitation": false, "inc_web_page": false, "inc_email": false, "inc_newsgroup": false, "inc_chat_im": false, "inc_online_gaming": false, "inc_cell_phone": false, "inc_peer_to_peer": false, "inc_non_internet": false, "rp_count": 1, "rp_ip_events": 0, "rp_device_ids": 0, "rp_prior_ct_reports": 0, "rp_esp_user_id": true, "rp_screen_name": false, "rp_email": true, "rp_phone": false, "rp_upload_ip": false, "rp_age_or_dob": false, "rp_estimated_location": false, "rp_account_temporarily_disabled": false, "rp_account_permanently_disabled": false, "victims_count": 0, "victims_minor_stated": false, "recipients_count": 0, "recipients_minor_stated": false, "country_code": "US", "location_source": "supplied", "bundle_batched": false, "bundle_incident_count": 1, "files_count": 2, "files_image": 1, "files_video": 1, "files_viewed": 1, "files_exif_viewed": 0, "files_public": 0, "files_supplemental": 0, "files_upload_ip": 0, "files_hash_known": 0, "files_hash_novel": 0, "files_tag_anime_drawing_virtual_hentai": 0, "files_tag_potential_meme": 0, "files_tag_viral": 0, "files_tag_possible_self_production": 0, "files_tag_physical_harm": 0, "files_tag_violence_gore": 0, "files_tag_bestiality": 0, "files_tag_live_streaming": 0, "files_tag_infant": 0, "files_tag_generative_ai": 0, "files_class_a1": 0, "files_class_a2": 0, "files_class_b1": 0, "files_class_b2": 0, "link_accounts": ["f31e958952b4c9aa83f2a61bf2898df9cc2dc6d10573ecbaa3c27c438c8a51d8"], "link_emails": ["12f647017e49b8288dcf03d1e59c99864de8a43facfb8ef500ebc446b16d2c44"], "link_phones": [], "link_ips": ["0950da73ddbb30990c87859f31f87c4f6831a8cd51aa81e66d446fc1e74bca00"], "link_devices": [], "link_file_hashes": []}');
INSERT INTO "scored" VALUES(3,'old-2','req-2','2026-11-27T14:08:43.806+00:00','2024-12-03T10:00:00+00:00','Snapchat','Online Enticement of Children for Sexual Acts',2,0.01,'tip-escalation/7',NULL,'[]','{"report_id":"old-2","escalation_probability":0.01,"suggested_priority":2,"thresholds":{"p1":0.05,"p2":0.004,"p1_share":0.005,"p12_share":0.05,"policy":"test"},"model_name":"tip-escalation","model_version":"7","explanation":{"scale":"log-odds","base_value":-8.0,"raw_score":-5.0,"note":"n","contributions":[]},"warnings":[],"suggestion_only":"a suggested priority with its reasons; an analyst decides, nothing is acted on automatically"}','{"report_id": "old-2", "incident_type": "Online Enticement of Children for Sexual Acts", "incident_at": "2024-06-01T10:00:00+00:00", "received_at": "2024-12-03T10:00:00+00:00", "reporter_type": "esp", "esp": "Snapchat", "esp_escalated": false, "ann_sextortion": false, "ann_csam_solicitation": false, "ann_minor_to_minor_interaction": false, "ann_spam": false, "ann_sadistic_online_exploitation": false, "inc_web_page": false, "inc_email": false, "inc_newsgroup": false, "inc_chat_im": false, "inc_online_gaming": false, "inc_cell_phone": false, "inc_peer_to_peer": false, "inc_non_internet": false, "rp_count": 1, "rp_ip_events": 0, "rp_device_ids": 0, "rp_prior_ct_reports": 0, "rp_esp_user_id": true, "rp_screen_name": false, "rp_email": true, "rp_phone": false, "rp_upload_ip": false, "rp_age_or_dob": false, "rp_estimated_location": false, "rp_account_temporarily_disabled": false, "rp_account_permanently_disabled": false, "victims_count": 0, "victims_minor_stated": false, "recipients_count": 0, "recipients_minor_stated": false, "country_code": "US", "location_source": "supplied", "bundle_batched": false, "bundle_incident_count": 1, "files_count": 2, "files_image": 1, "files_video": 1, "files_viewed": 1, "files_exif_viewed": 0, "files_public": 0, "files_supplemental": 0, "files_upload_ip": 0, "files_hash_known": 0, "files_hash_novel": 0, "files_tag_anime_drawing_virtual_hentai": 0, "files_tag_potential_meme": 0, "files_tag_viral": 0, "files_tag_possible_self_production": 0, "files_tag_physical_harm": 0, "files_tag_violence_gore": 0, "files_tag_bestiality": 0, "files_tag_live_streaming": 0, "files_tag_infant": 0, "files_tag_generative_ai": 0, "files_class_a1": 0, "files_class_a2": 0, "files_class_b1": 0, "files_class_b2": 0, "link_accounts": ["f31e958952b4c9aa83f2a61bf2898df9cc2dc6d10573ecbaa3c27c438c8a51d8"], "link_emails": ["eb346ebd7d51119415b0dd21111d53ca4a2fa17eb6c01952a912a5159a146ca7"], "link_phones": [], "link_ips": ["0950da73ddbb30990c87859f31f87c4f6831a8cd51aa81e66d446fc1e74bca00"], "link_devices": [], "link_file_hashes": []}');
CREATE INDEX decisions_by_report ON decisions (report_id, seq);
CREATE INDEX queue_order ON queue (priority, probability DESC, report_id);
CREATE INDEX queue_esp ON queue (esp, priority, probability DESC, report_id);
CREATE INDEX queue_decided
    ON queue (decided, priority, probability DESC, report_id);
CREATE TRIGGER scored_no_update BEFORE UPDATE ON scored
BEGIN SELECT RAISE(ABORT, 'scored reports are append-only'); END;
CREATE TRIGGER scored_no_delete BEFORE DELETE ON scored
BEGIN SELECT RAISE(ABORT, 'scored reports are append-only'); END;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('scored',3);
INSERT INTO "sqlite_sequence" VALUES('decisions',1);
COMMIT;
