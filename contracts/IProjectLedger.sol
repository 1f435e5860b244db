// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title The project ledger (项目信息链)
/// @notice Every record (project, 批复, abnormal event, credit commitment, access grant,
/// log anchor, and every status change of those) is individually identified by a
/// uid, sealed with an EIP-712 signature of an organisation's seal key, and checked
/// here: the sealer's role, the subject's existence, and the legality of a status change.
/// Nothing is ever deleted: a change of status is a new record that points at the old one.
interface IProjectLedger {
    /// @notice A record as sealed (EIP-712 type `Record`). `payload` is the canonical ABI
    /// encoding of the kind's fields (see docs/records.md and the SHAPE_* constants); `digest`
    /// binds off-chain content. The uid's first 4 bytes are the issuing organisation's id.
    struct Record {
        bytes32 uid;
        uint8 kind;
        bytes32 project;
        bytes32 ref;
        bytes32 digest;
        bytes payload;
    }

    /// @notice A seal in the compact form of EIP-2098: `r`, and `s` with the recovery bit
    /// (v - 27) in its top bit. 64 bytes of calldata instead of 65 bytes padded behind an
    /// offset and a length; any 65-byte signature with a low `s` (EIP-2) converts losslessly.
    struct Seal {
        bytes32 r;
        bytes32 vs;
    }

    /// @notice What the ledger keeps per record: one storage slot.
    struct Entry {
        uint8 kind;
        uint8 status;
        uint8 level; // approval stage, event severity, commitment type, grant scope or catalogue item stage
        uint32 issuer; // organisation id
        uint32 project; // project number, 0 for anchors and catalogue items
        uint40 recordedAt; // block timestamp
        // Grants: the grantee organisation. Events: the organisation of the last objection
        // (0 before any), which may not itself uphold or reject it. Approvals: the decision + 1
        // (so that a commitment bound to the approval can be checked against it). Catalogue
        // items: the version.
        uint32 subject;
        // Grants: expiry (unix seconds). Events: when the 信用修复 waiting period started,
        // the original report's time, carried over by every superseding correction.
        uint40 expiresAt;
    }

    /// @notice The version in force of a catalogue item (事项库), one slot per item, keyed by
    /// keccak256 of the item's code. A CATALOGUE record writes the next version (append-only:
    /// each version is a record of its own, which the index keeps); an approval names the item
    /// and the version it was decided under, which must be the one in force.
    struct Item {
        uint32 version; // 0: no such item
        uint32 department; // the competent organisation, the only one that approves the item
        uint32 timeLimit; // statutory time limit in working days, 0 for none
        uint8 stage; // 1-4
        uint8 list; // 1 审批 approval, 2 中介服务 intermediary, 3 技术审查 technical review
        uint8 commitment; // 0 none (negative list), 1 容缺受理, 2 信用承诺制, 3 企业自主验收
        uint8 flags; // bit 0 on the spot (即办), bit 1 retired
    }

    error LedgerUnauthorizedRelayer(address account);
    error LedgerInvalidSeal(bytes32 uid, address signer);
    error LedgerMissingRole(bytes32 uid, uint32 org, uint8 neededRole);
    error LedgerDuplicateRecord(bytes32 uid);
    error LedgerUnknownProject(bytes32 project);
    error LedgerProjectExists(bytes32 project);
    error LedgerProjectCodeMismatch(bytes32 project);
    error LedgerUnknownRecord(bytes32 ref);
    error LedgerUnknownKind(uint8 kind);
    error LedgerMalformedPayload(bytes32 uid);
    error LedgerInvalidValue(bytes32 uid, uint8 field, uint256 value);
    error LedgerIllegalTransition(bytes32 ref, uint8 kind, uint8 status);
    error LedgerNotIssuer(bytes32 ref, uint32 org);
    error LedgerCrossProject(bytes32 ref);
    error LedgerRepairTooEarly(bytes32 ref, uint256 allowedFrom);
    error LedgerLengthMismatch(uint256 records, uint256 seals);
    error LedgerProjectClosed(bytes32 project);
    error LedgerBatchOutOfGas(bytes32 uid);
    /// @notice The uid does not begin with the sealing organisation's id (its first 4 bytes,
    /// big-endian): each organisation issues uids in its own namespace only.
    error LedgerUidNotIssuers(bytes32 uid, uint32 org);
    /// @notice An anchor names a project or a ref; it has neither.
    error LedgerAnchorFields(bytes32 uid);
    /// @notice A correction of an event would lower its severity (and so its 信用修复 wait).
    error LedgerSeverityLowered(bytes32 ref, uint8 severity, uint8 lowered);
    /// @notice The organisation that raised the objection on event `ref` cannot decide it.
    error LedgerSelfDecision(bytes32 ref, uint32 org);
    /// @notice A catalogue record's version is not its item's current version + 1, or an
    /// approval names another version than the item's current one.
    error LedgerCatalogueVersion(bytes32 key, uint32 given, uint32 current);
    /// @notice An approval names an item the catalogue does not hold.
    error LedgerUnknownItem(bytes32 key);
    /// @notice An approval names a retired item.
    error LedgerItemRetired(bytes32 key);
    /// @notice The approval's issuer `org` is not the item's competent department.
    error LedgerNotItemDepartment(bytes32 key, uint32 org);
    /// @notice The approval's stage is not the item's stage.
    error LedgerItemStage(bytes32 key, uint8 stage);
    /// @notice The approval's decision is not allowed by the item's 承诺制 type.
    error LedgerDecisionNotAllowed(bytes32 key, uint8 decision);
    /// @notice A commitment's `approval` is not an active approval of the same project and
    /// issuer whose decision calls for a commitment of this type.
    error LedgerCommitmentApproval(bytes32 approval);
    /// @notice A catalogue record names a project or a ref; it has neither.
    error LedgerCatalogueFields(bytes32 uid);
    /// @notice Record `index` of a `submitGroups` input names group `group`, which has no seal.
    error LedgerUnknownGroup(uint256 index, uint256 group);
    /// @notice The packed records of a `submitGroups` input end inside record `index`, or hold
    /// more than their `groupOf.length` records (`index` is then that length), or record `index`
    /// has a compact payload that cannot be expanded (another kind than an approval, or too short
    /// for its fixed fields and its item).
    error LedgerMalformedRecords(uint256 index);
    // OpenZeppelin ECDSA's errors (same names, same selectors) for a seal that has a high `s`
    // or recovers no key: the ledger calls the ecrecover precompile itself and raises them, and
    // a refused record carries them like the ledger's own errors. (A compact seal has no
    // length to get wrong.)
    error ECDSAInvalidSignature();
    error ECDSAInvalidSignatureS(bytes32 s);

    /// @notice A record was accepted: the ledger wrote the entry `uid`. Everything else about
    /// the record is in the transaction's input (the `submit` / `submitBatch` / `submitGroups`
    /// call that carried it) and follows from it, so the event repeats none of it (each data word
    /// would cost every record 256 gas):
    /// - the record (kind, ref, digest, payload) and its seal: the copy of `uid` in the input;
    /// - its issuer: the organisation whose number is the uid's first four bytes (the ledger
    ///   accepts a record only in its seal key's organisation's namespace);
    /// - its sealer: the key its seal (`submit`, `submitBatch`) or its group's seal over the
    ///   group's Merkle root (`submitGroups`) recovers — the ledger recovered the same key from
    ///   the same input;
    /// - its record hash: `hashRecord` of that copy.
    /// Which copy, when an input carries a uid more than once (a crafted input; the same content
    /// sealed by two keys of one organisation): every record of an input yields, in input
    /// order, exactly one `RecordAdded` or one `RecordRejected` naming its uid (or the whole
    /// transaction reverts, leaving no log), so the k-th of the ledger's `RecordAdded` /
    /// `RecordRejected` logs naming a uid in the transaction is the k-th copy of that uid in the
    /// input. (`StatusChanged` names uids too, and is not counted.)
    /// @param uid the record's uid
    /// @param project its project id (0 for an anchor)
    event RecordAdded(bytes32 indexed uid, bytes32 indexed project);

    /// @notice The record `uid` moved to `status` because of record `cause`.
    /// @param uid the record whose status changed
    /// @param status its new status (STATUS_*)
    /// @param cause the record that changed it
    event StatusChanged(bytes32 indexed uid, uint8 status, bytes32 indexed cause);

    /// @notice A record of a batch was refused; `reason` is the custom error it raised.
    /// @param uid the refused record's uid
    /// @param reason the ABI-encoded custom error
    event RecordRejected(bytes32 indexed uid, bytes reason);

    /// @notice Adds one record; reverts with the reason if it is refused.
    /// Requirements: the sender is a relayer of an active organisation, calling the ledger as its
    /// transaction's `to` (an account without code that signed the transaction; a contract, or an
    /// account's delegated EIP-7702 code, is refused with `LedgerUnauthorizedRelayer`), as in
    /// `submitBatch` and `submitGroups`.
    /// @param record the record
    /// @param seal its seal
    function submit(Record calldata record, Seal calldata seal) external;

    /// @notice Adds many records; a refused record is reported by `RecordRejected`
    /// and does not stop the others (nothing of it is written).
    /// Requirements: the sender is a relayer of an active organisation; enough gas is
    /// left before each record, otherwise the whole batch reverts with `LedgerBatchOutOfGas`.
    /// @param records the records, applied in order
    /// @param seals their seals, one per record in the same order
    /// @return accepted the number of records accepted
    function submitBatch(Record[] calldata records, Seal[] calldata seals) external returns (uint256 accepted);

    /// @notice Adds many records sealed by groups: one seal per group instead of one per
    /// record. Record `i` belongs to group `groupOf[i]`; a group's records, in input order, are
    /// the leaves of a Merkle tree (leaf keccak256(0x00 ‖ the record's EIP-712 struct hash), inner node
    /// keccak256(0x01 ‖ left ‖ right), RFC 6962's shape, see `groupRoot`), and `seals[g]` is
    /// the EIP-712 signature of `RecordGroup(root, count, relayer)` (`hashGroup`) by a seal key
    /// of the organisation, with `relayer` the sender of this call. The ledger recomputes every
    /// root from the records themselves, so a record is sealed exactly as if it carried its own
    /// seal (and is proven later by its leaf, its path to the root, and the group's seal).
    /// Records are applied in input order, under every rule `submitBatch` applies; a refused
    /// record (all of a group's records when its seal recovers no key) is reported by
    /// `RecordRejected`, like `submitBatch`.
    /// `records` holds the records packed one after another, without ABI padding: a byte with
    /// the kind in its low 5 bits, bit 5 set when the payload is compact, bit 6 when a project
    /// follows and bit 7 when a ref follows (an absent one is zero); the uid (32 bytes); the
    /// project (32, if flagged); the ref (32, if flagged); the digest (32); the payload's length
    /// (2 bytes, big-endian); the payload: the kind's canonical ABI encoding, as in `Record`, or
    /// (an approval only) its compact form — stage (1 byte) ‖ decision (1) ‖ item_version (4) ‖
    /// issued_at (5) ‖ valid_until (5) ‖ restricted (32) ‖ the item's length (2) ‖ the item ‖
    /// document_no (the rest), numbers big-endian —, which the ledger
    /// expands into the canonical encoding: a record is hashed, sealed and decided as that one.
    /// A string of a compact payload longer than the limit is refused with that record
    /// (`LedgerMalformedPayload`), as the canonical payload is.
    /// Requirements: as `submitBatch`; `groupOf` has one byte per record, each below
    /// `seals.length`; `records` holds exactly `groupOf.length` records and nothing after them
    /// (else the call reverts with `LedgerMalformedRecords`).
    /// @param records the records, packed, applied in order
    /// @param groupOf the group of each record (one byte each)
    /// @param seals one seal per group
    /// @return accepted the number of records accepted
    function submitGroups(bytes calldata records, bytes calldata groupOf, Seal[] calldata seals)
        external
        returns (uint256 accepted);

    /// @notice The Merkle root over records with these EIP-712 struct hashes (keccak256 of
    /// `abi.encode(RECORD_TYPEHASH, uid, kind, project, ref, digest, keccak256(payload))`), in
    /// order, as `submitGroups` computes it (0 for none).
    /// @param structHashes the records' struct hashes
    /// @return root the root
    function groupRoot(bytes32[] calldata structHashes) external pure returns (bytes32 root);

    /// @notice EIP-712 digest of `RecordGroup(root, count, relayer)`, the value a group seal signs.
    /// @param root the group's Merkle root
    /// @param count its number of records
    /// @param relayer the relayer that may send it
    /// @return the digest
    function hashGroup(bytes32 root, uint256 count, address relayer) external view returns (bytes32);

    /// @notice The stored entry of a record (kind 0 when unknown).
    /// @param uid the record's uid
    function entry(bytes32 uid) external view returns (Entry memory);

    /// @notice A project's number (0 when unregistered) and registering organisation.
    /// @param projectId the project id (keccak256 of its code)
    /// @return number the project's number
    /// @return registrant the organisation that registered it
    function project(bytes32 projectId) external view returns (uint32 number, uint32 registrant);

    /// @notice Whether `org` holds a live grant `grantUid` on project `projectId`: the grant is
    /// active, unexpired, and its project still open (a revoked registration ends every grant).
    /// @param grantUid the grant record's uid
    /// @param projectId the project id
    /// @param org the organisation that would read under the grant
    function hasGrant(bytes32 grantUid, bytes32 projectId, uint32 org) external view returns (bool);

    /// @notice The version in force of a catalogue item (version 0 when unknown).
    /// @param key keccak256 of the item's code
    function catalogueItem(bytes32 key) external view returns (Item memory);

    /// @notice EIP-712 digest of a record, the value its seal signs.
    /// @param record the record
    function hashRecord(Record calldata record) external view returns (bytes32);

    /// @notice The membership contract this ledger trusts.
    function consortium() external view returns (address);
}
