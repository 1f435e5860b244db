// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Consortium membership (联盟管理)
/// @notice Organisations, their roles, seal keys and relayers. Every change is made
/// by a threshold of consortium admins through proposals, never by one key.
interface IConsortium {
    /// @notice A member organisation.
    struct Organization {
        string name;
        string uscc;
        uint8 roles; // ROLE_* bits (Common.sol): approval authority 1, supervisor 2, bank 4, auditor 8, catalogue 16
        bool suspended;
        uint64 admittedAt;
    }

    /// @notice A seal key's owner and the block range in which it may seal.
    struct SealKey {
        uint32 org;
        uint64 validFrom;
        uint64 validUntil; // 0 while the key is still valid
    }

    /// @notice An admin proposal: open until it is executed, cancelled or expires.
    struct Proposal {
        bytes data;
        address proposer;
        uint64 expiresAt; // block timestamp from which it can no longer be confirmed
        uint16 confirmations; // by admins still in the tenure they confirmed in
        bool executed;
        bool cancelled;
    }

    error ConsortiumUnauthorizedAdmin(address account);
    error ConsortiumOnlySelf(address caller);
    error ConsortiumUnknownOrganization(uint32 org);
    error ConsortiumUsccTaken(string uscc);
    error ConsortiumKeyInUse(address key);
    error ConsortiumUnknownSealKey(address key);
    error ConsortiumUnknownRelayer(address relayer);
    error ConsortiumUnknownProposal(uint256 id);
    error ConsortiumProposalExecuted(uint256 id);
    error ConsortiumProposalExpired(uint256 id);
    error ConsortiumProposalCancelled(uint256 id);
    error ConsortiumNotProposer(uint256 id, address caller);
    error ConsortiumNotConfirmed(uint256 id, address admin);
    error ConsortiumBelowThreshold(uint256 id, uint256 confirmations, uint256 threshold);
    error ConsortiumAlreadyConfirmed(uint256 id, address admin);
    error ConsortiumInvalidThreshold(uint256 threshold, uint256 admins);
    error ConsortiumInvalidRoles(uint8 roles);

    /// @notice An organisation was admitted.
    /// @param org its id
    /// @param name its name
    /// @param uscc its unified social credit code
    /// @param roles its roles (ROLE_* bits)
    event OrganizationAdmitted(uint32 indexed org, string name, string uscc, uint8 roles);

    /// @notice An organisation's roles were replaced.
    /// @param org the organisation
    /// @param roles its new roles (ROLE_* bits)
    event RolesChanged(uint32 indexed org, uint8 roles);

    /// @notice An organisation was suspended: its keys stop sealing and relaying.
    /// @param org the organisation
    event OrganizationSuspended(uint32 indexed org);

    /// @notice An organisation's suspension was lifted.
    /// @param org the organisation
    event OrganizationReinstated(uint32 indexed org);

    /// @notice A seal key was added.
    /// @param org the organisation it seals for
    /// @param key the key
    event SealKeyAdded(uint32 indexed org, address indexed key);

    /// @notice A seal key stopped being valid from this block on.
    /// @param org the organisation it sealed for
    /// @param key the key
    event SealKeyRevoked(uint32 indexed org, address indexed key);

    /// @notice An account may now submit transactions for an organisation.
    /// @param org the organisation
    /// @param relayer the account
    event RelayerAdded(uint32 indexed org, address indexed relayer);

    /// @notice An account may no longer submit transactions for an organisation.
    /// @param org the organisation
    /// @param relayer the account
    event RelayerRemoved(uint32 indexed org, address indexed relayer);

    /// @notice An admin was added (a new tenure starts).
    /// @param admin the admin
    event AdminAdded(address indexed admin);

    /// @notice An admin was removed; its confirmations stop counting.
    /// @param admin the former admin
    event AdminRemoved(address indexed admin);

    /// @notice The number of confirmations a proposal needs was set.
    /// @param threshold the number
    event ThresholdChanged(uint16 threshold);

    /// @notice A proposal was made.
    /// @param id its id
    /// @param proposer the admin who made it
    /// @param data the call to this contract it proposes
    event ProposalCreated(uint256 indexed id, address indexed proposer, bytes data);

    /// @notice An admin confirmed a proposal.
    /// @param id the proposal
    /// @param admin the admin
    event ProposalConfirmed(uint256 indexed id, address indexed admin);

    /// @notice A proposal was executed.
    /// @param id the proposal
    event ProposalExecuted(uint256 indexed id);

    /// @notice A proposal was cancelled by its proposer.
    /// @param id the proposal
    event ProposalCancelled(uint256 indexed id);

    /// @notice An admin withdrew its confirmation of a proposal.
    /// @param id the proposal
    /// @param admin the admin
    event ConfirmationWithdrawn(uint256 indexed id, address indexed admin);

    /// @notice Proposes a call to one of this contract's admin functions and confirms it.
    /// The proposal stays open for `PROPOSAL_LIFETIME` of block time.
    /// Requirements: the caller is an admin.
    /// @param data the call to one of this contract's admin functions (ABI-encoded)
    /// @return id the new proposal's id
    function propose(bytes calldata data) external returns (uint256 id);

    /// @notice Confirms a proposal; the confirmation that reaches the threshold executes it.
    /// Only confirmations by current admins count: a removed admin's confirmations stop
    /// counting, and do not count again if the same key is made admin again.
    /// Requirements: the caller is an admin who has not confirmed it; not executed yet;
    /// not cancelled; not expired (`block.timestamp < expiresAt`, else `ConsortiumProposalExpired`).
    /// @param id the proposal
    function confirm(uint256 id) external;

    /// @notice Executes an open proposal whose counting confirmations already reach the
    /// threshold (possible once the threshold was lowered after they were given).
    /// Requirements: the caller is an admin; the proposal is open; confirmations by
    /// current admins >= threshold (else `ConsortiumBelowThreshold`).
    /// @param id the proposal
    function execute(uint256 id) external;

    /// @notice Cancels an open proposal: it can no longer be confirmed.
    /// Requirements: the caller is an admin and the proposal's proposer; the proposal is open.
    /// @param id the proposal
    function cancel(uint256 id) external;

    /// @notice Withdraws the caller's confirmation of an open proposal; it stops counting.
    /// The caller may confirm again later, while the proposal is open.
    /// Requirements: the caller is an admin whose confirmation (in its current tenure)
    /// counts; the proposal is open.
    /// @param id the proposal
    function withdraw(uint256 id) external;

    /// @notice How long a proposal stays open, in seconds of block time: 7 days. A
    /// proposal the admins did not carry within a week is stale (the membership it was
    /// written against may have changed); it is proposed again rather than revived.
    function PROPOSAL_LIFETIME() external view returns (uint64);

    /// @notice Admits an organisation with its first seal key and relayer. Admin threshold only.
    /// @param name the organisation's name
    /// @param uscc its unified social credit code, unique in the consortium
    /// @param roles its roles (ROLE_* bits, at least one)
    /// @param sealKey its first seal key
    /// @param relayer its first relayer; address(0) for an organisation served by another member's node
    /// @return org the new organisation's id
    function admitOrganization(string calldata name, string calldata uscc, uint8 roles, address sealKey, address relayer)
        external
        returns (uint32 org);

    /// @notice Replaces an organisation's roles. Admin threshold only.
    /// @param org the organisation
    /// @param roles its new roles (ROLE_* bits, at least one)
    function setRoles(uint32 org, uint8 roles) external;

    /// @notice Suspends an organisation: its keys stop sealing and relaying. Admin threshold only.
    /// @param org the organisation
    function suspend(uint32 org) external;

    /// @notice Lifts a suspension. Admin threshold only.
    /// @param org the organisation
    function reinstate(uint32 org) external;

    /// @notice Adds a seal key. Admin threshold only.
    /// @param org the organisation
    /// @param key the new seal key, used by no organisation as seal key or relayer
    function addSealKey(uint32 org, address key) external;

    /// @notice Ends a seal key's validity from this block on. Admin threshold only.
    /// @param key a valid seal key
    function revokeSealKey(address key) external;

    /// @notice Revokes one seal key and adds another in one step. Admin threshold only.
    /// @param oldKey the valid seal key to revoke
    /// @param newKey the seal key that replaces it, for the same organisation
    function rotateSealKey(address oldKey, address newKey) external;

    /// @notice Lets an account submit transactions for an organisation. Admin threshold only.
    /// @param org the organisation
    /// @param relayer the account, used by no organisation as seal key or relayer
    function addRelayer(uint32 org, address relayer) external;

    /// @notice Removes a relayer. Admin threshold only.
    /// @param relayer the account
    function removeRelayer(address relayer) external;

    /// @notice Adds an admin. Admin threshold only.
    /// @param admin the account
    function addAdmin(address admin) external;

    /// @notice Removes an admin; its confirmations of open proposals stop counting. Admin threshold only.
    /// @param admin the admin
    function removeAdmin(address admin) external;

    /// @notice Changes the number of confirmations a proposal needs. Admin threshold only.
    /// @param threshold the number of confirmations, 1 to the number of admins
    function setThreshold(uint16 threshold) external;

    /// @notice The organisation a seal key belongs to, its roles, and whether the key may seal now.
    /// @param key the seal key
    /// @return org its organisation, 0 for an unknown key
    /// @return roles the organisation's roles
    /// @return active whether the key is unrevoked and its organisation not suspended
    function sealer(address key) external view returns (uint32 org, uint8 roles, bool active);

    /// @notice Whether an account is a relayer of an organisation that is not suspended.
    /// @param account the account
    function isRelayer(address account) external view returns (bool);

    /// @notice One organisation.
    /// @param org the organisation's id
    function organization(uint32 org) external view returns (Organization memory);

    /// @notice One seal key's record.
    /// @param key the seal key
    function sealKey(address key) external view returns (SealKey memory);

    /// @notice Number of organisations admitted so far (ids are 1..count).
    function organizationCount() external view returns (uint32);

    /// @notice One proposal.
    /// @param id the proposal's id
    function proposal(uint256 id) external view returns (Proposal memory);

    /// @notice Whether `admin`'s confirmation of proposal `id` counts now (false once it
    /// is withdrawn or `admin` is removed).
    /// @param id the proposal's id
    /// @param admin the account
    function hasConfirmed(uint256 id, address admin) external view returns (bool);

    /// @notice Whether an account is an admin.
    /// @param account the account
    function isAdmin(address account) external view returns (bool);

    /// @notice Confirmations a proposal needs.
    function threshold() external view returns (uint16);
}
