// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./IConsortium.sol";
import {
    ROLE_APPROVAL_AUTHORITY, ROLE_SUPERVISOR, ROLE_FINANCIAL_INSTITUTION, ROLE_AUDITOR, ROLE_CATALOGUE
} from "./Common.sol";

/// @title Consortium
/// @notice Membership of the investment-project chain. Admin functions run only
/// as the execution of a proposal confirmed by `threshold` distinct admins.
/// @dev Only confirmations by current admins count. Each admission of an admin key
/// starts a new tenure (a non-zero epoch); a confirmation records the confirmer's
/// tenure and counts only while that tenure lasts, so removing an admin voids its
/// confirmations of open proposals, and re-adding the same key does not revive them.
contract Consortium is IConsortium {
    uint8 private constant _ALL_ROLES =
        ROLE_APPROVAL_AUTHORITY | ROLE_SUPERVISOR | ROLE_FINANCIAL_INSTITUTION | ROLE_AUDITOR | ROLE_CATALOGUE;

    /// @inheritdoc IConsortium
    uint64 public constant PROPOSAL_LIFETIME = 7 days;

    /// @dev A proposal as stored: the confirmations that count are derived from
    /// `confirmers` and the admins' current tenures.
    struct StoredProposal {
        bytes data;
        address proposer;
        uint64 expiresAt; // block time from which it can no longer be confirmed
        bool executed;
        bool cancelled;
        address[] confirmers; // every account whose `_confirmedIn` entry is non-zero
    }

    mapping(address account => uint64 epoch) private _adminEpoch; // 0: not an admin
    uint64 private _epochs; // tenures started so far
    uint16 private _adminCount;
    uint16 private _threshold;

    Organization[] private _orgs; // org id = index + 1
    mapping(bytes32 usccHash => uint32 org) private _orgByUscc;
    mapping(address key => SealKey) private _sealKeys;
    mapping(address relayer => uint32 org) private _relayers;

    StoredProposal[] private _proposals;
    /// @dev The tenure in which an account confirmed a proposal; 0: not confirmed.
    mapping(uint256 id => mapping(address admin => uint64 epoch)) private _confirmedIn;

    modifier onlyAdmin() {
        if (_adminEpoch[msg.sender] == 0) revert ConsortiumUnauthorizedAdmin(msg.sender);
        _;
    }

    modifier onlySelf() {
        if (msg.sender != address(this)) revert ConsortiumOnlySelf(msg.sender);
        _;
    }

    /// @notice A consortium run by `admins`, `threshold_` of whom must confirm each change.
    /// @param admins the first consortium admins
    /// @param threshold_ confirmations a proposal needs (1 <= threshold_ <= admins.length)
    constructor(address[] memory admins, uint16 threshold_) {
        for (uint256 i = 0; i < admins.length; ++i) {
            _addAdmin(admins[i]);
        }
        _setThreshold(threshold_);
    }

    /// @inheritdoc IConsortium
    function propose(bytes calldata data) external onlyAdmin returns (uint256 id) {
        id = _proposals.length;
        StoredProposal storage p = _proposals.push();
        p.data = data;
        p.proposer = msg.sender;
        p.expiresAt = uint64(block.timestamp) + PROPOSAL_LIFETIME;
        emit ProposalCreated(id, msg.sender, data);
        _confirm(id);
    }

    /// @inheritdoc IConsortium
    function confirm(uint256 id) external onlyAdmin {
        _confirm(id);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 id) external onlyAdmin {
        StoredProposal storage p = _open(id);
        uint16 confirmations = _confirmations(id);
        if (confirmations < _threshold) revert ConsortiumBelowThreshold(id, confirmations, _threshold);
        _execute(id, p);
    }

    /// @inheritdoc IConsortium
    /// @dev Only the proposer: it is their call, and their confirmation opened it. Letting
    /// any one admin cancel would let a single dishonest admin veto every proposal of the
    /// others, which the threshold exists to prevent; a proposal nobody carries expires.
    function cancel(uint256 id) external onlyAdmin {
        StoredProposal storage p = _open(id);
        if (p.proposer != msg.sender) revert ConsortiumNotProposer(id, msg.sender);
        p.cancelled = true;
        emit ProposalCancelled(id);
    }

    /// @inheritdoc IConsortium
    function withdraw(uint256 id) external onlyAdmin {
        StoredProposal storage p = _open(id);
        if (_confirmedIn[id][msg.sender] != _adminEpoch[msg.sender]) revert ConsortiumNotConfirmed(id, msg.sender);
        delete _confirmedIn[id][msg.sender];
        address[] storage confirmers = p.confirmers;
        uint256 last = confirmers.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (confirmers[i] == msg.sender) {
                confirmers[i] = confirmers[last];
                confirmers.pop();
                break;
            }
        }
        emit ConfirmationWithdrawn(id, msg.sender);
    }

    /// @inheritdoc IConsortium
    function admitOrganization(string calldata name, string calldata uscc, uint8 roles, address key, address relayer)
        external
        onlySelf
        returns (uint32 org)
    {
        _checkRoles(roles);
        bytes32 usccHash = keccak256(bytes(uscc));
        if (_orgByUscc[usccHash] != 0) revert ConsortiumUsccTaken(uscc);
        _orgs.push(Organization({name: name, uscc: uscc, roles: roles, suspended: false, admittedAt: uint64(block.number)}));
        org = uint32(_orgs.length);
        _orgByUscc[usccHash] = org;
        emit OrganizationAdmitted(org, name, uscc, roles);
        _addSealKey(org, key);
        // An organisation served by another member's node has no relayer of its own.
        if (relayer != address(0)) _addRelayer(org, relayer);
    }

    /// @inheritdoc IConsortium
    function setRoles(uint32 org, uint8 roles) external onlySelf {
        _checkRoles(roles);
        _org(org).roles = roles;
        emit RolesChanged(org, roles);
    }

    /// @inheritdoc IConsortium
    function suspend(uint32 org) external onlySelf {
        _org(org).suspended = true;
        emit OrganizationSuspended(org);
    }

    /// @inheritdoc IConsortium
    function reinstate(uint32 org) external onlySelf {
        _org(org).suspended = false;
        emit OrganizationReinstated(org);
    }

    /// @inheritdoc IConsortium
    function addSealKey(uint32 org, address key) external onlySelf {
        _org(org);
        _addSealKey(org, key);
    }

    /// @inheritdoc IConsortium
    function revokeSealKey(address key) external onlySelf {
        _revokeSealKey(key);
    }

    /// @inheritdoc IConsortium
    function rotateSealKey(address oldKey, address newKey) external onlySelf {
        uint32 org = _revokeSealKey(oldKey);
        _addSealKey(org, newKey);
    }

    /// @inheritdoc IConsortium
    function addRelayer(uint32 org, address relayer) external onlySelf {
        _org(org);
        _addRelayer(org, relayer);
    }

    /// @inheritdoc IConsortium
    function removeRelayer(address relayer) external onlySelf {
        uint32 org = _relayers[relayer];
        if (org == 0) revert ConsortiumUnknownRelayer(relayer);
        delete _relayers[relayer];
        emit RelayerRemoved(org, relayer);
    }

    /// @inheritdoc IConsortium
    function addAdmin(address admin) external onlySelf {
        _addAdmin(admin);
        _setThreshold(_threshold);
    }

    /// @inheritdoc IConsortium
    function removeAdmin(address admin) external onlySelf {
        if (_adminEpoch[admin] == 0) revert ConsortiumUnauthorizedAdmin(admin);
        _adminEpoch[admin] = 0; // voids every confirmation made in this tenure
        --_adminCount;
        emit AdminRemoved(admin);
        _setThreshold(_threshold);
    }

    /// @inheritdoc IConsortium
    function setThreshold(uint16 threshold_) external onlySelf {
        _setThreshold(threshold_);
    }

    /// @inheritdoc IConsortium
    function sealer(address key) external view returns (uint32 org, uint8 roles, bool active) {
        SealKey storage k = _sealKeys[key];
        org = k.org;
        if (org == 0) return (0, 0, false);
        Organization storage o = _orgs[org - 1];
        return (org, o.roles, k.validUntil == 0 && !o.suspended);
    }

    /// @inheritdoc IConsortium
    function isRelayer(address account) external view returns (bool) {
        uint32 org = _relayers[account];
        return org != 0 && !_orgs[org - 1].suspended;
    }

    /// @inheritdoc IConsortium
    function organization(uint32 org) external view returns (Organization memory) {
        return _org(org);
    }

    /// @inheritdoc IConsortium
    function sealKey(address key) external view returns (SealKey memory) {
        return _sealKeys[key];
    }

    /// @inheritdoc IConsortium
    function organizationCount() external view returns (uint32) {
        return uint32(_orgs.length);
    }

    /// @inheritdoc IConsortium
    function proposal(uint256 id) external view returns (Proposal memory) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        StoredProposal storage p = _proposals[id];
        return Proposal({
            data: p.data,
            proposer: p.proposer,
            expiresAt: p.expiresAt,
            confirmations: _confirmations(id),
            executed: p.executed,
            cancelled: p.cancelled
        });
    }

    /// @inheritdoc IConsortium
    function hasConfirmed(uint256 id, address admin) external view returns (bool) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        uint64 epoch = _adminEpoch[admin];
        return epoch != 0 && _confirmedIn[id][admin] == epoch;
    }

    /// @inheritdoc IConsortium
    function isAdmin(address account) external view returns (bool) {
        return _adminEpoch[account] != 0;
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint16) {
        return _threshold;
    }

    function _confirm(uint256 id) private {
        StoredProposal storage p = _open(id);
        uint64 epoch = _adminEpoch[msg.sender];
        uint64 previous = _confirmedIn[id][msg.sender];
        if (previous == epoch) revert ConsortiumAlreadyConfirmed(id, msg.sender);
        // A confirmation from an earlier tenure of the same key is replaced, not listed twice.
        if (previous == 0) p.confirmers.push(msg.sender);
        _confirmedIn[id][msg.sender] = epoch;
        emit ProposalConfirmed(id, msg.sender);
        if (_confirmations(id) >= _threshold) _execute(id, p);
    }

    function _execute(uint256 id, StoredProposal storage p) private {
        p.executed = true;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = address(this).call(p.data);
        if (!ok) {
            // Bubble the admin function's own custom error up to the caller.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
        emit ProposalExecuted(id);
    }

    /// @dev Proposal `id` if it is still open: known, not executed, not cancelled, not expired.
    function _open(uint256 id) private view returns (StoredProposal storage p) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        p = _proposals[id];
        if (p.executed) revert ConsortiumProposalExecuted(id);
        if (p.cancelled) revert ConsortiumProposalCancelled(id);
        if (block.timestamp >= p.expiresAt) revert ConsortiumProposalExpired(id);
    }

    /// @dev Confirmations of proposal `id` made by admins in their current tenure.
    /// Bounded by the number of distinct keys that ever confirmed it, each an admin then.
    function _confirmations(uint256 id) private view returns (uint16 count) {
        address[] storage confirmers = _proposals[id].confirmers;
        for (uint256 i = 0; i < confirmers.length; ++i) {
            address a = confirmers[i];
            uint64 epoch = _adminEpoch[a];
            if (epoch != 0 && _confirmedIn[id][a] == epoch) ++count;
        }
    }

    function _org(uint32 org) private view returns (Organization storage) {
        if (org == 0 || org > _orgs.length) revert ConsortiumUnknownOrganization(org);
        return _orgs[org - 1];
    }

    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~_ALL_ROLES != 0) revert ConsortiumInvalidRoles(roles);
    }

    function _addSealKey(uint32 org, address key) private {
        if (key == address(0) || _sealKeys[key].org != 0 || _relayers[key] != 0) revert ConsortiumKeyInUse(key);
        _sealKeys[key] = SealKey({org: org, validFrom: uint64(block.number), validUntil: 0});
        emit SealKeyAdded(org, key);
    }

    function _revokeSealKey(address key) private returns (uint32 org) {
        SealKey storage k = _sealKeys[key];
        org = k.org;
        if (org == 0 || k.validUntil != 0) revert ConsortiumUnknownSealKey(key);
        k.validUntil = uint64(block.number);
        emit SealKeyRevoked(org, key);
    }

    function _addRelayer(uint32 org, address relayer) private {
        // A relayer must differ from every seal key: the key that pays for
        // transactions never seals (ARCHITECTURE principle 3).
        if (relayer == address(0) || _relayers[relayer] != 0 || _sealKeys[relayer].org != 0) {
            revert ConsortiumKeyInUse(relayer);
        }
        _relayers[relayer] = org;
        emit RelayerAdded(org, relayer);
    }

    function _addAdmin(address admin) private {
        if (admin == address(0) || _adminEpoch[admin] != 0) revert ConsortiumKeyInUse(admin);
        _adminEpoch[admin] = ++_epochs;
        ++_adminCount;
        emit AdminAdded(admin);
    }

    function _setThreshold(uint16 threshold_) private {
        if (threshold_ == 0 || threshold_ > _adminCount) revert ConsortiumInvalidThreshold(threshold_, _adminCount);
        _threshold = threshold_;
        emit ThresholdChanged(threshold_);
    }
}
