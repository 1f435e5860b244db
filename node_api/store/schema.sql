-- projchain node database. Ledger-derived tables (chain_*) are insert-only:
-- a reorganised or lost block is recorded in chain_orphans, never deleted.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Organisations this node serves (tenants) and their API tokens (hashed).
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL,
  revoked_at REAL
);

-- Durable outbox: a row exists before the API answers 202.
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL UNIQUE,
  org_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  project TEXT NOT NULL,
  ref TEXT NOT NULL,
  digest TEXT NOT NULL,
  payload BLOB NOT NULL,
  seal BLOB NOT NULL,
  state TEXT NOT NULL,            -- accepted | submitted | confirmed | failed
  accepted_at REAL NOT NULL,
  tx_hash TEXT,
  nonce INTEGER,
  submitted_at REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq);
CREATE INDEX IF NOT EXISTS outbox_tx ON outbox(tx_hash);
CREATE INDEX IF NOT EXISTS outbox_project ON outbox(project, kind);
CREATE INDEX IF NOT EXISTS outbox_ref ON outbox(ref);
-- Outbox rows this node sealed with its own key of the organisation (not pre-sealed on the
-- organisation's device): the submitter may carry them under one group seal per organisation
-- (submitGroups). Rows accepted before this table existed are not here and keep their seals.
CREATE TABLE IF NOT EXISTS outbox_node_sealed (seq INTEGER PRIMARY KEY REFERENCES outbox(seq));

-- Blocks the indexer has processed (number, hash) and those found orphaned.
CREATE TABLE IF NOT EXISTS chain_blocks (
  number INTEGER NOT NULL,
  hash TEXT NOT NULL PRIMARY KEY,
  timestamp INTEGER NOT NULL,
  seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chain_blocks_number ON chain_blocks(number);
CREATE TABLE IF NOT EXISTS chain_orphans (hash TEXT PRIMARY KEY, detected_at REAL NOT NULL);

-- Every RecordAdded seen, per block it was seen in, with the content the contract accepted:
-- the copy in the transaction's input whose EIP-712 hash the event names. A record whose
-- content is not there, or does not decode, is kept with `problem` saying why (and an empty
-- payload when the content is unknown): shown as unreadable, never dropped, never fatal.
CREATE TABLE IF NOT EXISTS chain_records (
  uid TEXT NOT NULL,
  kind INTEGER NOT NULL,
  project TEXT NOT NULL,
  ref TEXT NOT NULL,
  issuer INTEGER NOT NULL,
  sealer TEXT NOT NULL,
  digest TEXT NOT NULL,
  payload BLOB NOT NULL,
  seal BLOB NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  tx_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  record_hash TEXT NOT NULL,
  problem TEXT,
  PRIMARY KEY (uid, block_hash)
);
-- Each index is a B-tree written for every record the ledger accepts (issue #15: ≈ 15-25 µs of the
-- primary's CPU a record for one of random keys). One index serves a project's records in chain
-- order and its records of one kind (a project has tens of records: sorting them is cheap); a
-- record by its digest goes through chain_record_digests. Older databases drop the three indexes
-- this one replaces (project; project and kind; digest) and build it once, at start.
CREATE INDEX IF NOT EXISTS chain_records_by_project ON chain_records(project, kind, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_records_ref ON chain_records(ref);
-- An owner's projects (credit profile): only the project records are scanned for its USCC.
CREATE INDEX IF NOT EXISTS chain_records_kind ON chain_records(kind, block_number);
DROP INDEX IF EXISTS chain_records_project;
DROP INDEX IF EXISTS chain_records_project_kind;
DROP INDEX IF EXISTS chain_records_digest;

-- Grants as the CONTRACT stored them (its `entry(uid)`: grantee, project, expiry, scope),
-- read from the chain when the grant is indexed; status changes come from chain_status.
CREATE TABLE IF NOT EXISTS chain_grants (
  uid TEXT NOT NULL,
  block_hash TEXT NOT NULL,
  project TEXT NOT NULL,
  grantee INTEGER NOT NULL,
  scope INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (uid, block_hash)
);
CREATE INDEX IF NOT EXISTS chain_grants_project ON chain_grants(project, grantee);

-- Openings of restricted content (salt ‖ content, AES-GCM encrypted with the uid as
-- associated data): of records this node sealed, and of others' records fetched from their
-- issuing node under an on-chain grant or role (checked against the on-chain commitment
-- before they are kept). Insert-only.
CREATE TABLE IF NOT EXISTS openings (
  uid TEXT PRIMARY KEY,
  sealed BLOB NOT NULL,
  source TEXT NOT NULL,           -- issued | peer
  stored_at REAL NOT NULL
);

-- Project codes (the preimage of the on-chain project id).
CREATE TABLE IF NOT EXISTS chain_projects (project TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE);

CREATE TABLE IF NOT EXISTS chain_status (
  uid TEXT NOT NULL,
  status INTEGER NOT NULL,
  cause TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  PRIMARY KEY (uid, cause, block_hash)
);

CREATE TABLE IF NOT EXISTS chain_rejections (
  uid TEXT NOT NULL,
  reason TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  tx_hash TEXT NOT NULL,
  PRIMARY KEY (uid, block_hash, tx_hash)
);

-- Consortium membership as seen on chain (event log, insert-only).
CREATE TABLE IF NOT EXISTS chain_member_events (
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  PRIMARY KEY (block_hash, log_index)
);

-- Every digest a record binds (its own digest, and evidence of events).
CREATE TABLE IF NOT EXISTS chain_record_digests (
  digest TEXT NOT NULL,
  uid TEXT NOT NULL,
  block_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  PRIMARY KEY (digest, uid, block_hash)
) WITHOUT ROWID;  -- one B-tree, not a table and its key's index (older databases keep both; same rows)

-- Documents uploaded through this node (insert-only).
CREATE TABLE IF NOT EXISTS documents (
  digest TEXT NOT NULL,
  org_id INTEGER NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  uploaded_at REAL NOT NULL,
  PRIMARY KEY (digest, org_id)
);

-- Restricted reads (who, what, when, under which grant); insert-only, Merkle-logged.
CREATE TABLE IF NOT EXISTS access_log (
  seq INTEGER PRIMARY KEY,
  at REAL NOT NULL,
  org_id INTEGER NOT NULL,
  org_name TEXT NOT NULL,
  token_id INTEGER,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  project_code TEXT,
  basis TEXT NOT NULL,
  leaf_hash TEXT NOT NULL,
  officer TEXT                    -- the console officer who read (id:name), null for API tokens
);

-- Access-log roots anchored on chain (insert-only).
CREATE TABLE IF NOT EXISTS access_anchors (
  tree_size INTEGER PRIMARY KEY,
  root TEXT NOT NULL,
  uid TEXT NOT NULL,
  created_at REAL NOT NULL
);

-- Nonces (32 bytes) of signed node-to-node requests already served (replay protection), with
-- the request's signed timestamp; deleted once the request is stale (node_api/store/peer_nonces.py).
-- (Nodes created before kept the nonce's text in the same column; those rows expire alike.)
CREATE TABLE IF NOT EXISTS peer_nonces (nonce BLOB PRIMARY KEY, org_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS peer_nonces_at ON peer_nonces(at);

-- Failed authentications of the last minute, shared by the node's processes (token-guessing
-- defence, see node_api/store/auth.py): client address and token selector ("*" for none).
CREATE TABLE IF NOT EXISTS auth_failures (client TEXT NOT NULL, selector TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS auth_failures_key ON auth_failures(client, selector, at);
CREATE INDEX IF NOT EXISTS auth_failures_at ON auth_failures(at);

-- Webhook subscriptions of organisations (docs/notifications.md). Never deleted: DELETE through
-- the API marks a row deactivated. The signing secret is stored AES-GCM encrypted under the
-- node's data key with the subscription id as associated data (node_api/store/subscriptions.py);
-- records indexed up to `from_rowid` (the newest chain_records rowid at creation) are not sent.
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  org_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  filters TEXT NOT NULL,          -- JSON object
  events TEXT NOT NULL,           -- JSON list: record, warning
  secret BLOB NOT NULL,
  from_rowid INTEGER NOT NULL,
  created_at REAL NOT NULL,
  token_id INTEGER,
  deactivated_at REAL
);
CREATE INDEX IF NOT EXISTS subscriptions_org ON subscriptions(org_id, created_at);

-- The durable delivery queue: one row per (subscription, event), written in the same commit as
-- the cursor over the index that found the event; `id` is the idempotent delivery id a receiver sees.
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  subscription_id TEXT NOT NULL,
  event_key TEXT NOT NULL,        -- record:0x… (one delivery per subscription and event)
  type TEXT NOT NULL,             -- record | warning
  subject TEXT NOT NULL,          -- the record's uid
  project TEXT NOT NULL,          -- the project's id (0x…)
  project_code TEXT,
  created_at REAL NOT NULL,
  state TEXT NOT NULL,            -- pending | failing | delivered | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  delivered_at REAL,
  UNIQUE (subscription_id, event_key)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_at);
CREATE INDEX IF NOT EXISTS deliveries_subscription ON deliveries(subscription_id, state, seq);

-- 秒批秒办 filings made through this node (node_api/ledger/filings.py): what the chain does not hold
-- (the owner's name as filed) and the 备案证 rendered once the records were confirmed.
CREATE TABLE IF NOT EXISTS filings (
    code TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL,
    owner_name TEXT NOT NULL,
    registration TEXT NOT NULL,
    filing TEXT NOT NULL,
    checklist TEXT NOT NULL,          -- JSON list of the checklist records' uids
    certificate BLOB NOT NULL,        -- the 备案证 PDF
    created_at REAL NOT NULL
);

-- Idempotency-Keys of POST /v1/filings (docs/filings.md): one row per (organisation, key), claimed
-- before anything is written; `answer` (the 201 body's facts, JSON) once the filing is done, `error`
-- when it failed (a retry may then claim it again). `fingerprint`: SHA-256 of the request body.
CREATE TABLE IF NOT EXISTS filing_requests (
    org_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    started_at REAL NOT NULL,
    answer TEXT,
    error TEXT,
    PRIMARY KEY (org_id, key)
);

-- Supervision (docs/supervision.md): per project, when its warnings must next be re-assessed
-- without a new record (`recheck_at`, NULL: only a new record changes them; 0: a record came);
-- the warnings (open while `closed_at` is NULL; a warning that fires again is a new row), and
-- their history, append-only: opened / changed / closed, with the node's time.
CREATE TABLE IF NOT EXISTS supervised_projects (
  project TEXT PRIMARY KEY,
  recheck_at REAL,
  assessed_at REAL
);
CREATE INDEX IF NOT EXISTS supervised_projects_recheck ON supervised_projects(recheck_at);
CREATE TABLE IF NOT EXISTS warnings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule TEXT NOT NULL,
  rule_version INTEGER NOT NULL,
  project TEXT NOT NULL,
  project_code TEXT,
  region TEXT,
  subject TEXT NOT NULL,
  severity TEXT NOT NULL,
  responsible INTEGER,
  evidence TEXT NOT NULL,          -- JSON list of record uids
  first_fired_at REAL NOT NULL,
  detail TEXT NOT NULL,
  opened_at REAL NOT NULL,
  changed_at REAL,
  closed_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS warnings_open ON warnings(rule, project, subject) WHERE closed_at IS NULL;
CREATE INDEX IF NOT EXISTS warnings_project ON warnings(project, id);
CREATE INDEX IF NOT EXISTS warnings_state ON warnings(closed_at, id);
CREATE TABLE IF NOT EXISTS warning_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  warning_id INTEGER NOT NULL,
  transition TEXT NOT NULL,        -- opened | changed | closed
  at REAL NOT NULL,
  severity TEXT NOT NULL,
  evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warning_history_warning ON warning_history(warning_id, seq);

-- Console officers (docs/console.md): people who sign in as themselves and act for their
-- organisation. Passwords are argon2id hashes; a TOTP secret is kept only when the officer
-- enrolled one. `roles` (JSON list) narrows the organisation's roles for this officer (null:
-- all of them). Failed sign-ins lock the account (failed_logins, locked_until). Never deleted:
-- an officer who leaves is disabled.
CREATE TABLE IF NOT EXISTS officers (
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  totp_secret TEXT,
  roles TEXT,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until REAL NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  disabled_at REAL
);

-- Console sessions: the cookie's secret is stored as its SHA-256 only; `csrf` is the session's
-- synchronizer token every form carries. A session ends at sign-out or after it was idle too long.
CREATE TABLE IF NOT EXISTS officer_sessions (
  token_hash TEXT PRIMARY KEY,
  officer_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created_at REAL NOT NULL,
  last_seen REAL NOT NULL,
  ended_at REAL
);
CREATE INDEX IF NOT EXISTS officer_sessions_officer ON officer_sessions(officer_id);

-- Which officer had the node seal a record (off-chain metadata: the organisation seals on chain).
CREATE TABLE IF NOT EXISTS record_officers (
  uid TEXT PRIMARY KEY,
  officer_id INTEGER NOT NULL,
  officer TEXT NOT NULL,
  org_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  at REAL NOT NULL
);
-- Project search (docs/search.md, node_api/store/search_rows.py and search.py): a read model DERIVED from the ledger
-- (and this node's filings) by the indexer, one row per registered project, re-derived when its
-- registration or approvals change; it may be dropped and rebuilt (meta 'search.version').
CREATE TABLE IF NOT EXISTS search_projects (
  id INTEGER PRIMARY KEY,           -- the row's search_text rowid; order of first derivation
  project TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  owner_uscc TEXT NOT NULL,
  project_type TEXT NOT NULL,
  region TEXT NOT NULL,             -- division code of the project code
  industry TEXT NOT NULL,
  stage INTEGER NOT NULL,           -- highest stage granted by an approval active on chain (0: none)
  status TEXT NOT NULL,             -- active | revoked
  registered_on TEXT NOT NULL,      -- Beijing date of the first registration's block
  registration TEXT NOT NULL,       -- uid of the registration in force
  registration_block INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS search_projects_uscc ON search_projects(owner_uscc, id);
CREATE INDEX IF NOT EXISTS search_projects_region ON search_projects(region, id);
CREATE INDEX IF NOT EXISTS search_projects_registered ON search_projects(registered_on, id);
CREATE INDEX IF NOT EXISTS search_projects_code ON search_projects(code);
-- Public text (trigram: any 3-character substring, Chinese without a segmenter), rowid = search_projects.id.
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(name, owner_uscc, code, tokenize = 'trigram');
-- Restricted text: owner names of this node's filings (shown on the 备案证, read by role or grant).
CREATE VIRTUAL TABLE IF NOT EXISTS search_owner_names USING fts5(code UNINDEXED, owner_name, tokenize = 'trigram');
-- The approvals that grant a stage (approved, or on commitment), decoded once when indexed: a
-- project's stage reached is the highest of those still canonical and active.
CREATE TABLE IF NOT EXISTS search_stages (uid TEXT PRIMARY KEY, project TEXT NOT NULL, stage INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_stages_project ON search_stages(project);

-- Verification certificates (信用核查报告 / 项目核验凭证) issued by this node (docs/verification-certificate.md):
-- the sealed JSON exactly as issued (and its PDF once rendered), by id, for the public page. Insert-only: a
-- certificate is never changed or withdrawn here; the chain says whether it still holds.
CREATE TABLE IF NOT EXISTS certificates (
  id TEXT PRIMARY KEY,
  org_id INTEGER NOT NULL,
  project TEXT NOT NULL,
  project_code TEXT NOT NULL,
  as_of_block INTEGER NOT NULL,
  document BLOB NOT NULL,          -- the sealed certificate JSON, as issued
  issued_at REAL NOT NULL
);
-- Its PDF, rendered from the sealed JSON on first request (the same JSON renders the same bytes).
CREATE TABLE IF NOT EXISTS certificate_pdfs (
  id TEXT PRIMARY KEY,
  pdf BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS certificate_pdfs_no_update BEFORE UPDATE ON certificate_pdfs
BEGIN SELECT RAISE(ABORT, 'certificates are insert-only'); END;
CREATE TRIGGER IF NOT EXISTS certificate_pdfs_no_delete BEFORE DELETE ON certificate_pdfs
BEGIN SELECT RAISE(ABORT, 'certificates are insert-only'); END;
CREATE TRIGGER IF NOT EXISTS certificates_no_update BEFORE UPDATE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates are insert-only'); END;
CREATE TRIGGER IF NOT EXISTS certificates_no_delete BEFORE DELETE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates are insert-only'); END;
