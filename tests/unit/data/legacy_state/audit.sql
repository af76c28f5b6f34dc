BEGIN TRANSACTION;
CREATE TABLE requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    report_id TEXT,
    model_version TEXT,
    probability REAL,
    priority INTEGER,
    reasons TEXT,
    warnings TEXT
);
INSERT INTO "requests" VALUES(1,'req-0','2026-11-27T14:08:43.804+00:00','key-1','/score','old-0','tip-escalation/7',0.001,3,'[]','[]');
INSERT INTO "requests" VALUES(2,'req-1','2026-11-27T14:08:43.805+00:00','key-1','/score','old-1','tip-escalation/7',0.2,1,'[]','[]');
INSERT INTO "requests" VALUES(3,'req-2','2026-11-27T14:08:43.806+00:00','key-1','/score','old-2','tip-escalation/7',0.01,2,'[]','[]');
INSERT INTO "requests" VALUES(4,'25f58a3c041f4b79b62da49775401ea2','2026-11-27T14:08:43.816+00:00','key-2','/decide','old-0','tip-escalation/7',NULL,1,'[{"decision": "override", "reason": "other"}]','[]');
CREATE TRIGGER requests_no_update BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER requests_no_delete BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('requests',4);
COMMIT;
