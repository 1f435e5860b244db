// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IConsortium} from "./IConsortium.sol";
import {IProjectLedger} from "./IProjectLedger.sol";
import "./Common.sol";

/// @title ProjectLedger
/// @notice See {IProjectLedger}. Seals are EIP-712 signatures under the domain
/// ("projchain", "1", chainId, this contract).
contract ProjectLedger is IProjectLedger, EIP712 {
    bytes32 public constant RECORD_TYPEHASH =
        keccak256("Record(bytes32 uid,uint8 kind,bytes32 project,bytes32 ref,bytes32 digest,bytes payload)");

    struct ProjectInfo {
        uint32 number;
        uint32 registrant;
        bool closed; // registration revoked: no new approvals, commitments or grants
    }

    IConsortium private immutable _consortium;
    mapping(bytes32 uid => Entry) private _entries;
    mapping(bytes32 projectId => ProjectInfo) private _projects;
    uint32 private _projectCount;

    modifier onlyRelayer() {
        if (!_consortium.isRelayer(msg.sender)) revert LedgerUnauthorizedRelayer(msg.sender);
        _;
    }

    constructor(IConsortium consortium_) EIP712("projchain", "1") {
        _consortium = consortium_;
    }

    /// @inheritdoc IProjectLedger
    function submit(Record calldata record, bytes calldata seal) external onlyRelayer {
        _apply(record, seal);
    }

    /// @inheritdoc IProjectLedger
    function submitBatch(Record[] calldata records, bytes[] calldata seals)
        external
        onlyRelayer
        returns (uint256 accepted)
    {
        if (records.length != seals.length) revert LedgerLengthMismatch(records.length, seals.length);
        for (uint256 i = 0; i < records.length; i++) {
            try this.applyOne(records[i], seals[i]) {
                accepted++;
            } catch (bytes memory reason) {
                // Every refusal carries a custom error; empty revert data means the
                // record ran out of gas. Revert the whole batch so the sender retries it
                // with more gas instead of the record being reported as refused.
                if (reason.length == 0) revert LedgerBatchOutOfGas(records[i].uid);
                emit RecordRejected(records[i].uid, reason);
            }
        }
    }

    /// @inheritdoc IProjectLedger
    function applyOne(Record calldata record, bytes calldata seal) external {
        if (msg.sender != address(this)) revert LedgerOnlySelf(msg.sender);
        _apply(record, seal);
    }

    /// @inheritdoc IProjectLedger
    function entry(bytes32 uid) external view returns (Entry memory) {
        return _entries[uid];
    }

    /// @inheritdoc IProjectLedger
    function project(bytes32 projectId) external view returns (uint32 number, uint32 registrant) {
        ProjectInfo storage p = _projects[projectId];
        return (p.number, p.registrant);
    }

    /// @inheritdoc IProjectLedger
    function hasGrant(bytes32 grantUid, bytes32 projectId, uint32 org) external view returns (bool) {
        Entry storage g = _entries[grantUid];
        return g.kind == KIND_GRANT && g.status == STATUS_ACTIVE && g.subject == org
            && g.project == _projects[projectId].number && g.expiresAt > block.timestamp;
    }

    /// @inheritdoc IProjectLedger
    function hashRecord(Record calldata record) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECORD_TYPEHASH,
                    record.uid,
                    record.kind,
                    record.project,
                    record.ref,
                    record.digest,
                    keccak256(record.payload)
                )
            )
        );
    }

    /// @inheritdoc IProjectLedger
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    function _apply(Record calldata r, bytes calldata seal) private {
        if (_entries[r.uid].kind != 0) revert LedgerDuplicateRecord(r.uid);
        address signer = ECDSA.recover(hashRecord(r), seal);
        (uint32 org, uint8 roles, bool active) = _consortium.sealer(signer);
        if (!active) revert LedgerInvalidSeal(r.uid, signer);
        _entries[r.uid] = _build(r, org, roles);
        emit RecordAdded(r.uid, r.project, r.kind, r.ref, org, signer, r.digest, r.payload, seal);
    }

    /// @dev Checks a record against the rules and applies its status change; returns its entry.
    function _build(Record calldata r, uint32 org, uint8 roles) private returns (Entry memory e) {
        e.kind = r.kind;
        e.issuer = org;
        e.recordedAt = uint40(block.timestamp);
        e.status = STATUS_RECORDED;

        uint8 kind = r.kind;
        if (kind == KIND_ANCHOR) {
            // Any member may anchor its own access-log root; no project.
        } else if (kind == KIND_PROJECT) {
            _needRole(r.uid, org, roles, ROLE_APPROVAL_AUTHORITY);
            _registerProject(r, org, e);
        } else {
            ProjectInfo storage p = _projects[r.project];
            if (p.number == 0) revert LedgerUnknownProject(r.project);
            e.project = p.number;
            if (p.closed && (kind == KIND_APPROVAL || kind == KIND_COMMITMENT || kind == KIND_GRANT)) {
                revert LedgerProjectClosed(r.project);
            }
            if (kind == KIND_APPROVAL) {
                _needRole(r.uid, org, roles, ROLE_APPROVAL_AUTHORITY);
                e.level = _word8(r, 0, 1, 4); // stage 1-4
                _word8(r, 1, 0, 3); // decision
                e.status = STATUS_ACTIVE;
                if (r.ref != 0) _supersede(r, org, e.project, STATUS_ACTIVE);
            } else if (kind == KIND_EVENT) {
                _needRole(r.uid, org, roles, ROLE_SUPERVISOR);
                e.level = _word8(r, 0, SEVERITY_SLIGHT, SEVERITY_SERIOUS);
                e.status = STATUS_OPEN;
                if (r.ref != 0) _supersede(r, org, e.project, STATUS_OPEN);
            } else if (kind == KIND_COMMITMENT) {
                _needRole(r.uid, org, roles, ROLE_APPROVAL_AUTHORITY);
                e.level = _word8(r, 0, 1, 4); // commitment type
                e.status = STATUS_PENDING;
                if (r.ref != 0) _supersede(r, org, e.project, STATUS_PENDING);
            } else if (kind == KIND_GRANT) {
                _needRole(r.uid, org, roles, ROLE_APPROVAL_AUTHORITY);
                if (p.registrant != org) revert LedgerNotIssuer(r.project, org);
                uint256 grantee = _word(r, 0);
                if (grantee == 0 || grantee > _consortium.organizationCount()) {
                    revert LedgerInvalidValue(r.uid, 0, grantee);
                }
                e.subject = uint32(grantee);
                _word8(r, 1, 1, 3); // scope: documents, restricted fields, all
                uint256 expiresAt = _word(r, 2);
                if (expiresAt > type(uint40).max) revert LedgerInvalidValue(r.uid, 2, expiresAt);
                e.expiresAt = uint40(expiresAt);
                e.status = STATUS_ACTIVE;
            } else if (kind >= KIND_REVOCATION && kind <= KIND_BREACH) {
                _changeStatus(r, org, roles, e.project);
            } else {
                revert LedgerUnknownKind(kind);
            }
        }
    }

    function _registerProject(Record calldata r, uint32 org, Entry memory e) private {
        if (r.ref != 0) {
            // A correction of the registration: same project, issuer's own record.
            ProjectInfo storage existing = _projects[r.project];
            if (existing.number == 0) revert LedgerUnknownProject(r.project);
            e.project = existing.number;
            _supersede(r, org, existing.number, STATUS_ACTIVE);
        } else {
            if (_projects[r.project].number != 0) revert LedgerProjectExists(r.project);
            e.project = ++_projectCount;
            _projects[r.project] = ProjectInfo({number: e.project, registrant: org, closed: false});
        }
        // The payload's first field is the project code; the id must be its hash.
        if (r.payload.length < 64) revert LedgerMalformedPayload(r.uid);
        string memory code = abi.decode(r.payload, (string));
        if (keccak256(bytes(code)) != r.project) revert LedgerProjectCodeMismatch(r.project);
        e.status = STATUS_ACTIVE;
    }

    function _supersede(Record calldata r, uint32 org, uint32 projectNo, uint8 liveStatus) private {
        Entry storage old = _target(r.ref, projectNo);
        if (old.kind != r.kind || old.status != liveStatus) revert LedgerIllegalTransition(r.ref, r.kind, old.status);
        if (old.issuer != org) revert LedgerNotIssuer(r.ref, org);
        old.status = STATUS_SUPERSEDED;
        emit StatusChanged(r.ref, STATUS_SUPERSEDED, r.uid);
    }

    function _changeStatus(Record calldata r, uint32 org, uint8 roles, uint32 projectNo) private {
        Entry storage t = _target(r.ref, projectNo);
        uint8 kind = r.kind;
        uint8 next;
        if (kind == KIND_REVOCATION) {
            // Only the issuer revokes its own approval, registration or grant.
            if (t.issuer != org) revert LedgerNotIssuer(r.ref, org);
            bool revocable = t.kind == KIND_APPROVAL || t.kind == KIND_GRANT || t.kind == KIND_PROJECT;
            if (!revocable || t.status != STATUS_ACTIVE) revert LedgerIllegalTransition(r.ref, kind, t.status);
            if (t.kind == KIND_PROJECT) _projects[r.project].closed = true;
            next = STATUS_REVOKED;
        } else if (kind == KIND_FULFILMENT || kind == KIND_BREACH) {
            if (roles & (ROLE_APPROVAL_AUTHORITY | ROLE_SUPERVISOR) == 0) {
                revert LedgerMissingRole(r.uid, org, ROLE_APPROVAL_AUTHORITY | ROLE_SUPERVISOR);
            }
            if (t.kind != KIND_COMMITMENT || t.status != STATUS_PENDING) {
                revert LedgerIllegalTransition(r.ref, kind, t.status);
            }
            next = kind == KIND_FULFILMENT ? STATUS_FULFILLED : STATUS_BREACHED;
        } else {
            _needRole(r.uid, org, roles, ROLE_SUPERVISOR);
            next = _eventTransition(r.ref, kind, t);
        }
        t.status = next;
        emit StatusChanged(r.ref, next, r.uid);
    }

    /// @dev reported → (objection → upheld / rejected) → resolved → repaired.
    function _eventTransition(bytes32 ref, uint8 kind, Entry storage t) private view returns (uint8) {
        uint8 s = t.status;
        if (t.kind == KIND_EVENT) {
            if (kind == KIND_RESOLUTION && s == STATUS_OPEN) return STATUS_RESOLVED;
            if (kind == KIND_OBJECTION && s == STATUS_OPEN) return STATUS_OBJECTED;
            if (kind == KIND_OBJECTION_UPHELD && s == STATUS_OBJECTED) return STATUS_ANNULLED;
            if (kind == KIND_OBJECTION_REJECTED && s == STATUS_OBJECTED) return STATUS_OPEN;
            if (kind == KIND_REPAIR && s == STATUS_RESOLVED) {
                uint256 wait = t.level == SEVERITY_SERIOUS
                    ? REPAIR_WAIT_SERIOUS
                    : (t.level == SEVERITY_GENERAL ? REPAIR_WAIT_GENERAL : REPAIR_WAIT_SLIGHT);
                uint256 allowedFrom = uint256(t.recordedAt) + wait;
                if (block.timestamp < allowedFrom) revert LedgerRepairTooEarly(ref, allowedFrom);
                return STATUS_REPAIRED;
            }
        }
        revert LedgerIllegalTransition(ref, kind, s);
    }

    function _target(bytes32 ref, uint32 projectNo) private view returns (Entry storage t) {
        t = _entries[ref];
        if (t.kind == 0) revert LedgerUnknownRecord(ref);
        if (t.project != projectNo) revert LedgerCrossProject(ref);
    }

    function _needRole(bytes32 uid, uint32 org, uint8 roles, uint8 role) private pure {
        if (roles & role == 0) revert LedgerMissingRole(uid, org, role);
    }

    function _word(Record calldata r, uint256 index) private pure returns (uint256) {
        uint256 end = (index + 1) * 32;
        if (r.payload.length < end) revert LedgerMalformedPayload(r.uid);
        return uint256(bytes32(r.payload[end - 32:end]));
    }

    function _word8(Record calldata r, uint256 index, uint256 min, uint256 max) private pure returns (uint8) {
        uint256 v = _word(r, index);
        if (v < min || v > max) revert LedgerInvalidValue(r.uid, uint8(index), v);
        return uint8(v);
    }
}
