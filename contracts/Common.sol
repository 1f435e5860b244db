// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// Roles an organisation may hold, as bits of one byte so that a role check is a
// single AND on a value already loaded with the seal key.
uint8 constant ROLE_APPROVAL_AUTHORITY = 1; // 审批部门
uint8 constant ROLE_SUPERVISOR = 2; // 监督管理机构
uint8 constant ROLE_FINANCIAL_INSTITUTION = 4; // 金融机构
uint8 constant ROLE_AUDITOR = 8; // 审计/纪检
uint8 constant ROLE_CATALOGUE = 16; // 事项库维护 (政务服务中心 in the demo): issues catalogue items

// Record kinds. Kinds below 10 create a subject; kinds from 10 change the status
// of the record they reference. Records of kinds 1-4 that carry a `ref` supersede it.
uint8 constant KIND_PROJECT = 1;
uint8 constant KIND_APPROVAL = 2;
uint8 constant KIND_EVENT = 3;
uint8 constant KIND_COMMITMENT = 4;
uint8 constant KIND_GRANT = 5;
uint8 constant KIND_ANCHOR = 6;
uint8 constant KIND_CATALOGUE = 7; // a version of a catalogue item (事项库), no project
uint8 constant KIND_ACCEPTANCE = 8; // 受理 of a catalogue item, by its department; open (running) until paused
uint8 constant KIND_CHECKLIST = 9; // a project's 一张清单: the catalogue items it must pass (a part of it)
uint8 constant KIND_REVOCATION = 10;
uint8 constant KIND_RESOLUTION = 11;
uint8 constant KIND_REPAIR = 12;
uint8 constant KIND_OBJECTION = 13;
uint8 constant KIND_OBJECTION_UPHELD = 14;
uint8 constant KIND_OBJECTION_REJECTED = 15;
uint8 constant KIND_FULFILMENT = 16;
uint8 constant KIND_BREACH = 17;
uint8 constant KIND_PAUSE = 18; // 暂停计时 of a running acceptance, by its issuer (1+X: 专家评审, 公示, 听证 …)
uint8 constant KIND_RESUME = 19; // 恢复计时 of a paused acceptance, by its issuer

// Payload shapes: the ABI types of each kind's payload fields, one letter per field in order
// (see node_api/domain/records.py PAYLOAD_SCHEMAS): b uint8, i uint32, l uint64, w bytes32,
// s string (at most MAX_STRING_BYTES), a bytes32[] (at most MAX_ARRAY_ITEMS). A payload
// must be exactly abi.encode of such a tuple: its canonical encoding, nothing hidden in it.
bytes32 constant SHAPE_PROJECT = "sssbssw"; // code, name, owner_uscc, project_type, region_code, industry_code, restricted
// stage, decision, item (the catalogue item's code), item_version, document_no, issued_at, valid_until, restricted
bytes32 constant SHAPE_APPROVAL = "bbsisllw";
bytes32 constant SHAPE_EVENT = "bsllaw"; // severity, category, occurred_at, publish_until, evidence, restricted
bytes32 constant SHAPE_COMMITMENT = "bwlw"; // commitment_type, approval (uid or 0), due_at, restricted
bytes32 constant SHAPE_GRANT = "ibl"; // grantee, scope, expires_at
bytes32 constant SHAPE_ANCHOR = "l"; // tree_size
// code, version, name, stage, list, department, time_limit_days, on_the_spot, commitment, retired,
// depends_on (keccak256 of the prerequisite items' codes), guide (SHA-256 of the 服务指南, or 0)
bytes32 constant SHAPE_CATALOGUE = "sisbbiibbbaw";
// part, parts, items (keccak256 of the item codes), versions (each item's version in force, one word each)
bytes32 constant SHAPE_CHECKLIST = "bbaa";
bytes32 constant SHAPE_STATUS_CHANGE = "w"; // restricted (kinds 10-17)
bytes32 constant SHAPE_ACCEPTANCE = "silw"; // item (code), item_version, accepted_at, restricted
bytes32 constant SHAPE_PAUSE = "sw"; // reason (public: 专家评审 / 公示 / 听证 …), restricted (kinds 18, 19)
uint256 constant MAX_STRING_BYTES = 1024;
uint256 constant MAX_ARRAY_ITEMS = 32;
uint256 constant MAX_ITEM_CODE_BYTES = 64;

// An approval's decision (payload field 1) and the 承诺制 type of a catalogue item (CATALOGUE
// field 8) that allows it: approved_on_commitment only under 信用承诺制, accepted_with_deficiencies
// only under 容缺受理. The commitment that goes with such an approval has the matching type.
uint8 constant DECISION_ON_COMMITMENT = 1; // approved_on_commitment
uint8 constant DECISION_WITH_DEFICIENCIES = 2; // accepted_with_deficiencies
uint8 constant ITEM_COMMITMENT_DEFICIENCY = 1; // 容缺受理
uint8 constant ITEM_COMMITMENT_CREDIT = 2; // 信用承诺制
uint8 constant COMMITMENT_APPROVAL_SUBSTITUTE = 1; // 审批替代型, bound to approved_on_commitment
uint8 constant COMMITMENT_DEFICIENCY_ACCEPTANCE = 2; // 容缺受理型, bound to accepted_with_deficiencies
// Flags of a catalogue item (`IProjectLedger.Item.flags`).
uint8 constant ITEM_ON_THE_SPOT = 1; // 即办
uint8 constant ITEM_RETIRED = 2;

// Record statuses.
uint8 constant STATUS_NONE = 0;
uint8 constant STATUS_ACTIVE = 1;
uint8 constant STATUS_REVOKED = 2;
uint8 constant STATUS_SUPERSEDED = 3;
uint8 constant STATUS_OPEN = 4;
uint8 constant STATUS_OBJECTED = 5;
uint8 constant STATUS_RESOLVED = 6;
uint8 constant STATUS_REPAIRED = 7;
uint8 constant STATUS_ANNULLED = 8;
uint8 constant STATUS_PENDING = 9;
uint8 constant STATUS_FULFILLED = 10;
uint8 constant STATUS_BREACHED = 11;
uint8 constant STATUS_RECORDED = 12;
uint8 constant STATUS_PAUSED = 13; // an acceptance whose clock is paused (a running one is STATUS_OPEN)

// Severity of an abnormal event (轻微 / 一般 / 严重) and the minimum time it stays
// published before 信用修复 may be recorded (国办发〔2025〕22号).
uint8 constant SEVERITY_SLIGHT = 1;
uint8 constant SEVERITY_GENERAL = 2;
uint8 constant SEVERITY_SERIOUS = 3;
uint256 constant REPAIR_WAIT_SLIGHT = 0;
uint256 constant REPAIR_WAIT_GENERAL = 90 days;
uint256 constant REPAIR_WAIT_SERIOUS = 365 days;
