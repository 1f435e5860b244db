// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IConsortium} from "./IConsortium.sol";
import {IProjectLedger} from "./IProjectLedger.sol";
import {
    ROLE_APPROVAL_AUTHORITY, ROLE_SUPERVISOR, ROLE_CATALOGUE,
    KIND_PROJECT, KIND_APPROVAL, KIND_EVENT, KIND_COMMITMENT, KIND_GRANT, KIND_ANCHOR, KIND_CATALOGUE, KIND_REVOCATION,
    KIND_RESOLUTION, KIND_REPAIR, KIND_OBJECTION, KIND_OBJECTION_UPHELD, KIND_OBJECTION_REJECTED, KIND_FULFILMENT,
    KIND_BREACH, KIND_ACCEPTANCE, KIND_PAUSE, KIND_RESUME, SHAPE_ACCEPTANCE, SHAPE_PAUSE, STATUS_PAUSED,
    KIND_CHECKLIST, SHAPE_CHECKLIST,
    SHAPE_PROJECT, SHAPE_APPROVAL, SHAPE_EVENT, SHAPE_COMMITMENT, SHAPE_GRANT, SHAPE_ANCHOR, SHAPE_CATALOGUE,
    SHAPE_STATUS_CHANGE, MAX_ITEM_CODE_BYTES,
    DECISION_ON_COMMITMENT, DECISION_WITH_DEFICIENCIES, ITEM_COMMITMENT_DEFICIENCY, ITEM_COMMITMENT_CREDIT,
    COMMITMENT_APPROVAL_SUBSTITUTE, COMMITMENT_DEFICIENCY_ACCEPTANCE, ITEM_ON_THE_SPOT, ITEM_RETIRED,
    // both read in `_canonical`'s assembly, where solhint does not look
    // solhint-disable-next-line no-unused-import
    MAX_STRING_BYTES, MAX_ARRAY_ITEMS,
    STATUS_NONE, STATUS_ACTIVE, STATUS_REVOKED, STATUS_SUPERSEDED, STATUS_OPEN, STATUS_OBJECTED, STATUS_RESOLVED,
    STATUS_REPAIRED, STATUS_ANNULLED, STATUS_PENDING, STATUS_FULFILLED, STATUS_BREACHED, STATUS_RECORDED,
    SEVERITY_SLIGHT, SEVERITY_GENERAL, SEVERITY_SERIOUS,
    REPAIR_WAIT_SLIGHT, REPAIR_WAIT_GENERAL, REPAIR_WAIT_SERIOUS
} from "./Common.sol";

/// @title ProjectLedger
/// @notice See {IProjectLedger}. Seals are EIP-712 signatures under the domain
/// ("projchain", "1", chainId, this contract).
/// @dev A record is applied in two steps: `_check` decides, reading state only, whether it
/// is accepted and what it changes (a `Change`); `_commit` then writes exactly that. A
/// refusal is returned as the ABI-encoded custom error instead of reverting, so a batch
/// reports it with `RecordRejected` and goes on, and nothing of the refused record was
/// written. `submit` reverts with the same error.
contract ProjectLedger is IProjectLedger, EIP712 {
    /// @notice The EIP-712 type hash of `Record`, the struct a seal signs.
    bytes32 public constant RECORD_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("Record(bytes32 uid,uint8 kind,bytes32 project,bytes32 ref,bytes32 digest,bytes payload)");

    /// @notice The EIP-712 type hash of `RecordGroup`, what a group seal signs: the Merkle root
    /// of a group's records (see `submitGroups`), their number, and the relayer that may send it.
    bytes32 public constant GROUP_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("RecordGroup(bytes32 root,uint256 count,address relayer)");

    /// @dev Gas a batch keeps in hand before each record: more than the dearest record
    /// (a project registration, ≈ 90k). Below it the batch stops with LedgerBatchOutOfGas,
    /// so the sender retries with more gas; a record that still runs out reverts the whole
    /// transaction all the same (never a partial batch). In `submitGroups` the reserve is checked
    /// when `_applyApprovals` looks at a record, before the reads it makes of it (up to three cold
    /// slots, a hash and a copy: ≈ 10k) when it then hands the record to the general path, which
    /// checks no reserve of its own: the reserve must cover the dearest record plus that.
    uint256 private constant BATCH_GAS_RESERVE = 150_000;

    /// @dev `RecordAdded`'s topic and `LedgerBatchOutOfGas`' selector (left-aligned) as literals, for
    /// `_applyApprovals`' assembly, which reads only literal constants; the constructor checks both.
    bytes32 private constant RECORD_ADDED_TOPIC = 0x46d4065cc454718b152db04aab7d30d1d3c2854da4792a61d1eb601caf715891;
    uint256 private constant BATCH_OUT_OF_GAS = 0x0f34047000000000000000000000000000000000000000000000000000000000;

    /// @dev The bit of a packed record's first byte (see `submitGroups`) that marks its payload compact
    /// (`_expandApproval`); the kind is in the byte's low 5 bits.
    uint256 private constant COMPACT = 0x20;

    /// @dev Seal keys whose consortium answer a transaction keeps (see `Scratch`).
    uint256 private constant KEY_CACHE = 8;

    /// @dev What each shape letter (Common.sol's SHAPE_*) means to `_canonical`, one byte per
    /// letter at the index of the letter's low 5 bits: for a static type its width in bytes
    /// (b 1, i 4, l 8, w 32), for a dynamic type 0x40 (s, string) or 0x80 (a, bytes32[]).
    /// (Only these six letters occur in the shapes; any other would read as a zero word.)
    uint256 private constant TYPE_CODES = 0x0080010000000000000400000800000000000040000000200000000000000000;

    /// @dev The bits of a packed `Item` an approval must match: its version, department and stage.
    uint256 private constant ITEM_MATCH_MASK = 0xff00000000ffffffffffffffff;

    /// @dev Half the order of secp256k1: a seal's `s` must not exceed it (EIP-2), so that a
    /// seal has exactly one valid form.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct ProjectInfo {
        uint32 number;
        uint32 registrant;
        bool closed; // registration revoked: no new approvals, commitments or grants
    }

    /// @dev Everything accepting a record writes, decided before the first write.
    struct Change {
        Entry entry; // the record's own entry
        uint8 refStatus; // new status of the record `ref` points at; 0 when it is untouched
        bool registers; // a new project: number `entry.project`, registrant `entry.issuer`
        bool closesProject; // the revocation of a registration closes the project
        uint32 objector; // an objection: its organisation, kept as the event's `subject`; else 0
        bool writesItem; // a catalogue record: `item` becomes the version in force of `itemKey`
        bytes32 itemKey;
        Item item;
    }

    /// @dev The fixed fields of a record being applied, in memory (its payload is in memory too, see `_check`),
    /// laid out as EIP-712 encodes a `Record`: the memory of this struct, word by word, is
    /// abi.encode(RECORD_TYPEHASH, uid, kind, project, ref, digest, keccak256(payload)), whose
    /// keccak256 is the record's struct hash (`_hashHead`).
    // solhint-disable-next-line gas-struct-packing
    struct Head {
        bytes32 typeHash;
        bytes32 uid;
        uint8 kind;
        bytes32 project;
        bytes32 ref;
        bytes32 digest;
        bytes32 payloadHash;
    }

    /// @dev A transaction's working memory, reused record after record (the EVM never frees
    /// memory, and a fresh allocation per record costs more the longer the batch): the
    /// consortium's answers for the seal keys seen so far — membership cannot change within a
    /// transaction, and a batch formed from single writes interleaves a few organisations'
    /// keys, so each key is asked about once (up to KEY_CACHE keys; further keys replace the
    /// oldest) — and the `Change` being decided. It lives in memory only, where every field
    /// takes a word whatever its type: storage packing does not apply.
    // solhint-disable-next-line gas-struct-packing
    struct Scratch {
        address lastKey; // the key of the previous record (a bulk batch has one key throughout)
        uint256 lastAnswer;
        address[KEY_CACHE] keys;
        uint256[KEY_CACHE] answers; // org | roles << 32 | active << 40, as `_sealer` packs them
        uint256 known; // keys asked about so far (the cache holds the last KEY_CACHE of them)
        Change change;
        Head head; // the record being applied
    }

    IConsortium private immutable _CONSORTIUM;
    mapping(bytes32 uid => Entry) private _entries;
    mapping(bytes32 projectId => ProjectInfo) private _projects;
    mapping(bytes32 itemKey => Item) private _items;
    uint32 private _projectCount;

    /// @dev A registered relayer calling the ledger itself, as its transaction's `to`: an account
    /// without code that sent the transaction. Not a contract, nor an account whose delegated code
    /// (EIP-7702) makes the call: the indexer and the verifiers read a record, its seal and so its
    /// sealer from the input of the transaction that carried it (`RecordAdded` names neither), which
    /// is the ledger's input only when the ledger is the transaction's `to`.
    modifier onlyRelayer() {
        // solhint-disable-next-line avoid-tx-origin
        if (msg.sender != tx.origin || msg.sender.code.length != 0 || !_CONSORTIUM.isRelayer(msg.sender)) {
            revert LedgerUnauthorizedRelayer(msg.sender);
        }
        _;
    }

    /// @notice A ledger that trusts the membership contract `consortium_`.
    /// @param consortium_ the consortium whose organisations, seal keys and relayers it accepts
    constructor(IConsortium consortium_) EIP712("projchain", "1") {
        assert(
            RECORD_ADDED_TOPIC == RecordAdded.selector
                && bytes4(bytes32(BATCH_OUT_OF_GAS)) == LedgerBatchOutOfGas.selector
        );
        _CONSORTIUM = consortium_;
    }

    /// @inheritdoc IProjectLedger
    function submit(Record calldata record, Seal calldata seal) external onlyRelayer {
        Scratch memory scratch;
        bytes memory refusal = _accept(record, seal, scratch);
        if (refusal.length != 0) _revertWith(refusal);
    }

    /// @inheritdoc IProjectLedger
    function submitBatch(Record[] calldata records, Seal[] calldata seals)
        external
        onlyRelayer
        returns (uint256 accepted)
    {
        if (records.length != seals.length) revert LedgerLengthMismatch(records.length, seals.length);
        Scratch memory scratch;
        uint256 freeMemory = _freeMemory();
        for (uint256 i = 0; i < records.length; ) {
            if (gasleft() < BATCH_GAS_RESERVE) revert LedgerBatchOutOfGas(records[i].uid);
            bytes memory refusal = _accept(records[i], seals[i], scratch);
            if (refusal.length != 0) emit RecordRejected(records[i].uid, refusal);
            // Nothing a record allocated outlives it: give its memory to the next one, so that
            // memory (whose price grows quadratically) stays the size of one record.
            _setFreeMemory(freeMemory);
            unchecked {
                // Both count at most records.length.
                if (refusal.length == 0) ++accepted;
                ++i;
            }
        }
    }

    /// @inheritdoc IProjectLedger
    function submitGroups(bytes calldata records, bytes calldata groupOf, Seal[] calldata seals)
        external
        onlyRelayer
        returns (uint256 accepted)
    {
        uint256 n = groupOf.length;
        Scratch memory scratch;
        (uint256[] memory keys, bytes[] memory refusals) = _groupSigners(records, groupOf, seals, scratch);
        uint256 freeMemory = _freeMemory();
        uint256 next;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            next := records.offset
        }
        uint256 i = 0;
        while (true) {
            uint256 added;
            (i, next, added) = _applyApprovals(groupOf, i, next, keys);
            accepted += added;
            if (i == n) return accepted;
            // Record i, whose gas `_applyApprovals` checked but which it left: the general path.
            uint256 g = uint8(groupOf[i]);
            bool ok;
            (ok, next) = _applyPacked(next, refusals[g], keys[g], scratch);
            _setFreeMemory(freeMemory);
            unchecked {
                // Both count at most n.
                if (ok) ++accepted;
                ++i;
            }
        }
    }

    /// @dev Applies the packed record at calldata offset `at` under every rule (`_apply`), or
    /// reports its refusal with `RecordRejected` (`groupRefusal`, when its group's seal recovered
    /// no key); `key` is its group's (see `_groupSigners`). Returns whether it was accepted and
    /// where the next record begins.
    function _applyPacked(
        uint256 at,
        bytes memory groupRefusal,
        uint256 key,
        Scratch memory scratch
    ) private returns (bool added, uint256 next) {
        Head memory r = scratch.head;
        uint256 payload;
        uint256 length;
        bool compact;
        (next, payload, length, compact) = _read(at, r);
        bytes memory refusal = groupRefusal;
        if (refusal.length == 0) {
            Entry storage slot = _entries[r.uid];
            if (slot.kind != 0) {
                refusal = abi.encodeWithSelector(LedgerDuplicateRecord.selector, r.uid);
            } else {
                // The payload in memory, canonical: the compact form expanded, the canonical form copied.
                (bytes memory canonical, bool wellFormed) = compact
                    ? _expandApproval(payload, length)
                    : _payload(r.kind, _calldata(payload, length));
                refusal = _apply(
                    r, canonical, wellFormed, slot, address(uint160(key >> 96)), uint96(key), scratch
                );
            }
        }
        if (refusal.length != 0) emit RecordRejected(r.uid, refusal);
        added = refusal.length == 0;
    }

    /// @dev Applies records `i`, `i + 1`, … of a grouped input (record `i` begins at calldata
    /// offset `at`) while each is the commonest kind, an approval of a project that refers to no
    /// earlier record, that every rule `_apply` and `_check` hold it to accepts: its group's key
    /// active and an approval authority's, the uid in that organisation's namespace, the payload
    /// canonical (`_canonicalApproval`, the same code; a compact payload, which `_leaves` found
    /// expandable, is canonical once expanded unless a string is longer than MAX_STRING_BYTES:
    /// `_expandApproval`'s test, read in place), stage 1-4 and decision 0-3, the catalogue
    /// item's version in force, department, stage and 承诺制 type (`_itemAllows`), the project
    /// registered and open, no entry yet. Each is written as `_commit` writes it (one `_store` of
    /// the entry `_check` decides) with the same `RecordAdded`, without the general path's calls
    /// and allocations. Stops at the first record it does not accept (nothing of it written: the
    /// general path, `_applyPacked`, then decides it and names its refusal) or at the end; returns
    /// that record's index and offset, and the number written. Checks each record's gas reserve,
    /// the one it stops at included. tests/contracts/test_group_fast_path.py holds the two paths equal.
    // solhint-disable-next-line function-max-lines
    function _applyApprovals(
        bytes calldata groupOf,
        uint256 i,
        uint256 at,
        uint256[] memory keys
    ) private returns (uint256 halt, uint256 next, uint256 added) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // `_canonicalApproval`'s rules for the `size` bytes of payload at calldata `base`: nonzero when broken
            function malformed(base, size) -> bad {
                bad := gt(0x100, size)
                bad := or(bad, shr(8, or(calldataload(base), calldataload(add(base, 0x20)))))
                bad := or(bad, shr(32, calldataload(add(base, 0x60))))
                bad := or(bad, shr(64, or(calldataload(add(base, 0xa0)), calldataload(add(base, 0xc0)))))
                bad := or(bad, xor(calldataload(add(base, 0x40)), 0x100))
                let codeLength := calldataload(add(base, 0x100))
                bad := or(bad, gt(codeLength, MAX_STRING_BYTES))
                bad := or(bad, shr(sub(256, shl(3, and(sub(0, codeLength), 31))), calldataload(add(base, add(0x120, codeLength)))))
                let end := add(0x120, and(add(codeLength, 31), not(31)))
                bad := or(bad, xor(calldataload(add(base, 0x80)), end))
                let length := calldataload(add(base, end))
                bad := or(bad, gt(length, MAX_STRING_BYTES))
                bad := or(bad, shr(sub(256, shl(3, and(sub(0, length), 31))), calldataload(add(base, add(add(end, 0x20), length)))))
                end := add(end, add(0x20, and(add(length, 31), not(31))))
                bad := or(bad, xor(end, size))
            }
            // `_itemAllows` for an approval of `org` with this stage, decision and item version, its item's
            // code the `codeLength` bytes at calldata `code`: nonzero when refused. The item's slot by
            // keccak256 of the code (hashed in free memory; a code longer than MAX_STRING_BYTES, refused
            // as malformed, is cut so that the copy stays bounded).
            function itemRefused(code, codeLength, version, org, stage, decision) -> bad {
                let m := mload(0x40)
                codeLength := and(codeLength, 0x7ff)
                calldatacopy(m, code, codeLength)
                mstore(0x00, keccak256(m, codeLength))
                mstore(0x20, _items.slot)
                let item := sload(keccak256(0x00, 0x40))
                bad := xor(and(item, ITEM_MATCH_MASK), or(version, or(shl(32, org), shl(96, stage))))
                bad := or(bad, and(shr(120, item), ITEM_RETIRED))
                let commitment := and(shr(112, item), 0xff)
                bad := or(bad, and(eq(decision, DECISION_ON_COMMITMENT), iszero(eq(commitment, ITEM_COMMITMENT_CREDIT))))
                bad := or(bad, and(eq(decision, DECISION_WITH_DEFICIENCIES), iszero(eq(commitment, ITEM_COMMITMENT_DEFICIENCY))))
            }
            next := at
            // the group byte of the record at hand
            let group := add(groupOf.offset, i)
            for { let last := add(groupOf.offset, groupOf.length) } lt(group, last) { group := add(group, 1) } {
                if lt(gas(), BATCH_GAS_RESERVE) {
                    mstore(0x00, BATCH_OUT_OF_GAS)
                    mstore(0x04, calldataload(add(next, 1)))
                    revert(0x00, 0x24)
                }
                // The group's key: its consortium answer (`_sealer`) and address, see `_groupSigners`.
                let key := mload(add(keys, shl(5, add(byte(0, calldataload(group)), 1))))
                // The packed flags: this kind, its payload canonical or compact (bit 5), a project (bit
                // 6), no ref (bit 7); the key active (bit 40), an approval authority's, of the
                // organisation whose namespace the uid is in.
                let flags := byte(0, calldataload(next))
                let need := or(shl(40, 1), shl(32, ROLE_APPROVAL_AUTHORITY))
                if iszero(and(
                    eq(and(flags, not(COMPACT)), or(KIND_APPROVAL, 0x40)),
                    eq(and(key, or(need, 0xffffffff)), or(need, shr(224, calldataload(add(next, 1)))))
                )) { break }
                // Every other rule sets bits of `bad`; the record is written only when none is set.
                // Flags, uid, project, digest, then the payload's length (2 bytes) and the payload.
                let base := add(next, 99)
                let size := shr(240, calldataload(add(next, 97)))
                let bad := 0
                let stage := 0
                let decision := 0
                let version := 0
                let code := 0
                let codeLength := 0
                switch and(flags, COMPACT)
                case 0 {
                    bad := malformed(base, size)
                    stage := calldataload(base)
                    decision := calldataload(add(base, 0x20))
                    version := calldataload(add(base, 0x60))
                    code := add(base, 0x120)
                    codeLength := calldataload(add(base, 0x100))
                }
                default {
                    // The compact form (`_expandApproval`; `_leaves` checked that it expands): the
                    // expansion is canonical but for a string longer than MAX_STRING_BYTES.
                    let w := calldataload(base)
                    stage := byte(0, w)
                    decision := byte(1, w)
                    version := shr(224, shl(16, w))
                    codeLength := shr(240, calldataload(add(base, 48)))
                    code := add(base, 50)
                    bad := or(gt(codeLength, MAX_STRING_BYTES), gt(sub(size, add(50, codeLength)), MAX_STRING_BYTES))
                }
                bad := or(bad, or(gt(sub(stage, 1), 3), gt(decision, 3))) // `_small`
                let org := and(key, 0xffffffff)
                bad := or(bad, itemRefused(code, codeLength, version, org, stage, decision))
                // the project registered and open (`ProjectInfo`: number, registrant, closed from the low end)
                mstore(0x00, calldataload(add(next, 33)))
                mstore(0x20, _projects.slot)
                let info := sload(keccak256(0x00, 0x40))
                let projectNo := and(info, 0xffffffff)
                bad := or(bad, or(iszero(projectNo), and(shr(64, info), 0xff)))
                // no entry yet
                mstore(0x00, calldataload(add(next, 1)))
                mstore(0x20, _entries.slot)
                let slot := keccak256(0x00, 0x40)
                bad := or(bad, and(sload(slot), 0xff))
                if bad { break }

                // `_store` of the entry `_check` decides: kind, active, stage, issuer, project
                // number, now, decision + 1
                sstore(slot, or(
                    or(or(KIND_APPROVAL, shl(8, STATUS_ACTIVE)), or(shl(16, stage), shl(24, org))),
                    or(or(shl(56, projectNo), shl(88, and(timestamp(), 0xffffffffff))), shl(128, add(decision, 1)))
                ))
                log3(0, 0, RECORD_ADDED_TOPIC, calldataload(add(next, 1)), calldataload(add(next, 33)))
                added := add(added, 1)
                next := add(base, size)
            }
            halt := sub(group, groupOf.offset)
        }
    }

    /// @inheritdoc IProjectLedger
    function groupRoot(bytes32[] calldata structHashes) external pure returns (bytes32 root) {
        uint256 n = structHashes.length;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ) {
            leaves[i] = _leaf(structHashes[i]);
            unchecked {
                ++i;
            }
        }
        uint256 at;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            at := add(leaves, 0x20)
        }
        return n == 0 ? bytes32(0) : _root(at, n);
    }

    /// @inheritdoc IProjectLedger
    function hashGroup(bytes32 root, uint256 count, address relayer) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(GROUP_TYPEHASH, root, count, relayer)));
    }

    /// @dev Per group: its key, the seal key its seal recovers over the Merkle root of its records
    /// (in input order) with the consortium's answer for it (`_sealer`) — `answer | key << 96` —,
    /// and the refusal of all its records when the seal recovers no key (the key 0 then).
    function _groupSigners(
        bytes calldata records,
        bytes calldata groupOf,
        Seal[] calldata seals,
        Scratch memory scratch
    ) private view returns (uint256[] memory keys, bytes[] memory refusals) {
        uint256 groups = seals.length;
        (uint256[] memory end, uint256 base) = _leaves(records, groupOf, groups);
        keys = new uint256[](groups);
        refusals = new bytes[](groups);
        uint256 begin = 0;
        for (uint256 g = 0; g < groups; ) {
            uint256 count = end[g] - begin;
            if (count != 0) {
                bytes32 root = _root(base + (begin << 5), count);
                (address signer, bytes memory refusal) = _recover(hashGroup(root, count, msg.sender), seals[g]);
                refusals[g] = refusal;
                if (refusal.length == 0) keys[g] = _sealer(signer, scratch) | (uint256(uint160(signer)) << 96);
            }
            begin = end[g];
            unchecked {
                ++g;
            }
        }
    }

    /// @dev Reads the packed records (see `submitGroups`): every record's leaf, laid out group by
    /// group (a counting sort on `groupOf`) in one array at memory `base`, group `g` ending before
    /// leaf `end[g]`. Reverts with
    /// LedgerMalformedRecords unless exactly `groupOf.length` records fill `records` to its last
    /// byte and every compact payload can be expanded. One pass in assembly: a record's fields go
    /// into a `Head` as `_read` reads them (the same code, inlined: a call of `_read` per record
    /// costs more, and a Solidity loop around it runs out of stack), hashed as `_hashHead` does,
    /// a compact payload's hash that of its expansion (`_expandApproval`'s bytes, written by
    /// `expand` below into a region whose zero bytes stay zero between records).
    // solhint-disable-next-line function-max-lines
    function _leaves(bytes calldata records, bytes calldata groupOf, uint256 groups)
        private
        pure
        returns (uint256[] memory end, uint256 base)
    {
        uint256 n = groupOf.length;
        end = _groupStarts(groupOf, groups); // each moves to its group's end as its leaves arrive
        bytes32[] memory leaves = new bytes32[](n);
        bytes32 typeHash = RECORD_TYPEHASH;
        uint256 malformed = n + 1; // the record that runs past the end, n for bytes after the last
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The keccak256 of the compact payload at calldata `payload` (`length` bytes) of a record
            // of kind `kind`, expanded as `_expandApproval` expands it, at memory `wide`; `ok` 0 when it
            // cannot be: another kind than an approval, or too short for its fixed fields and its item.
            // Only the nonzero bytes of the expansion's first nine words are written: their zero bytes
            // were zeroed once (`wide` serves only this), and valid_until ‖ restricted and the item's
            // length ‖ the item lie in the same order in both forms, so each pair is one copy. (A
            // function with `leave` is not inlined: the loop's stack stays small.)
            function expand(payload, length, kind, wide) -> hash, ok {
                let codeLength := shr(240, calldataload(add(payload, 48)))
                if or(xor(kind, KIND_APPROVAL), gt(add(50, codeLength), length)) { leave }
                let w := calldataload(payload)
                mstore(wide, shr(248, w)) // stage
                mstore(add(wide, 0x20), byte(1, w)) // decision
                mstore(add(wide, 0x60), shr(224, shl(16, w))) // item_version
                mstore(add(wide, 0xa0), shr(216, shl(48, w))) // issued_at
                calldatacopy(add(wide, 0xdb), add(payload, 11), 37) // valid_until ‖ restricted
                let document := add(0x120, and(add(codeLength, 31), not(31)))
                mstore(add(wide, 0x80), document) // document_no's offset
                mstore(add(wide, sub(document, 0x20)), 0) // the item's padding (or its zero length)
                calldatacopy(add(wide, 0x11e), add(payload, 48), add(codeLength, 2)) // item's length ‖ item
                let documentLength := sub(length, add(50, codeLength))
                let q := add(wide, document)
                mstore(q, documentLength)
                calldatacopy(add(q, 0x20), add(payload, add(50, codeLength)), documentLength)
                q := add(add(q, 0x20), documentLength)
                mstore(q, 0) // the document's padding
                hash := keccak256(wide, and(sub(add(q, 31), wide), not(31)))
                ok := 1
            }
            base := add(leaves, 0x20)
            // Scratch above everything allocated: the `Head` (7 words), 0x00 ‖ struct hash (the
            // leaf's), a compact payload's expansion, whose first nine words hold zeros and the
            // item's offset between records, and, after them, a canonical payload (copied).
            let head := mload(0x40)
            let leaf := add(head, 0xe0)
            let wide := add(head, 0x140)
            let copy := add(wide, 0x120)
            mstore(head, typeHash)
            mstore8(leaf, 0)
            mstore(add(wide, 0x40), 0x100) // the item's offset
            mstore(add(wide, 0xc0), 0)
            mstore(add(wide, 0x100), 0)
            let next := records.offset
            let last := add(next, records.length)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let flags := byte(0, calldataload(next))
                mstore(add(head, 0x20), calldataload(add(next, 1))) // uid
                mstore(add(head, 0x40), and(flags, 0x1f)) // kind
                let p := add(next, 33)
                let word := 0
                if and(flags, 0x40) {
                    word := calldataload(p)
                    p := add(p, 0x20)
                }
                mstore(add(head, 0x60), word) // project
                word := 0
                if and(flags, 0x80) {
                    word := calldataload(p)
                    p := add(p, 0x20)
                }
                mstore(add(head, 0x80), word) // ref
                mstore(add(head, 0xa0), calldataload(p)) // digest
                let length := shr(240, calldataload(add(p, 0x20)))
                let payload := add(p, 0x22)
                next := add(payload, length)
                if gt(next, last) {
                    malformed := i
                    break
                }
                switch and(flags, COMPACT)
                case 0 {
                    calldatacopy(copy, payload, length)
                    mstore(add(head, 0xc0), keccak256(copy, length))
                }
                default {
                    let hash, ok := expand(payload, length, and(flags, 0x1f), wide)
                    if iszero(ok) {
                        malformed := i
                        break
                    }
                    mstore(add(head, 0xc0), hash)
                }
                let structHash := keccak256(head, 0xe0)
                mstore(add(leaf, 1), structHash)
                let place := add(end, shl(5, add(byte(0, calldataload(add(groupOf.offset, i))), 1)))
                let at := mload(place)
                mstore(add(base, shl(5, at)), keccak256(leaf, 0x21))
                mstore(place, add(at, 1))
            }
            if and(gt(malformed, n), iszero(eq(next, last))) { malformed := n }
        }
        if (malformed <= n) revert LedgerMalformedRecords(malformed);
    }

    /// @dev Reads the packed record that begins at calldata offset `at` into `r` (all but the
    /// payload's hash): its first byte holds the kind (low 5 bits), whether the payload is
    /// compact (bit 5, see `_expandApproval`) and whether a project (bit 6) and a ref (bit 7)
    /// follow the uid (an absent one is zero); then the digest, the payload's length (2 bytes)
    /// and the payload. Returns where the payload lies, whether it is compact and where the next
    /// record begins; reads only (beyond the input a read gives zeros: the caller checks `next`).
    /// `_leaves` inlines the same reading in its loop.
    function _read(uint256 at, Head memory r)
        private
        pure
        returns (uint256 next, uint256 payload, uint256 length, bool compact)
    {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let flags := byte(0, calldataload(at))
            compact := iszero(iszero(and(flags, COMPACT)))
            mstore(add(r, 0x20), calldataload(add(at, 1))) // uid
            mstore(add(r, 0x40), and(flags, 0x1f)) // kind
            let p := add(at, 33)
            let word := 0
            if and(flags, 0x40) {
                word := calldataload(p)
                p := add(p, 0x20)
            }
            mstore(add(r, 0x60), word) // project
            word := 0
            if and(flags, 0x80) {
                word := calldataload(p)
                p := add(p, 0x20)
            }
            mstore(add(r, 0x80), word) // ref
            mstore(add(r, 0xa0), calldataload(p)) // digest
            length := shr(240, calldataload(add(p, 0x20)))
            payload := add(p, 0x22)
            next := add(payload, length)
        }
    }

    /// @dev The struct hash of the record `r` with `payload`: keccak256 of `r` itself (see `Head`),
    /// once its type hash and the payload's hash are in.
    function _hashHead(Head memory r, bytes memory payload) private pure returns (bytes32 structHash) {
        bytes32 typeHash = RECORD_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(r, typeHash)
            mstore(add(r, 0xc0), keccak256(add(payload, 0x20), mload(payload)))
            structHash := keccak256(r, 0xe0)
        }
    }

    /// @dev A canonical-form payload in memory (the rules read it there, as they read an expanded
    /// compact one) and whether it is in its kind's canonical shape (`_canonical`, checked in
    /// calldata: a crafted offset may point anywhere).
    function _payload(uint8 kind, bytes calldata data) private pure returns (bytes memory payload, bool canonical) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // `payload = data`, without the compiler's checks and padding (the memory is freed after the record)
            payload := mload(0x40)
            mstore(payload, data.length)
            calldatacopy(add(payload, 0x20), data.offset, data.length)
            mstore(0x40, add(add(payload, 0x20), and(add(data.length, 31), not(31))))
        }
        canonical = kind == KIND_APPROVAL ? _canonicalApproval(data) : _canonical(data, _shape(kind));
    }

    /// @dev The canonical payload of the compact approval payload of `size` bytes at calldata
    /// `at`, in memory, and whether it is canonical. The compact form of
    /// abi.encode(stage, decision, item, item_version, document_no, issued_at, valid_until,
    /// restricted) (`SHAPE_APPROVAL`) is stage (1 byte) ‖ decision (1) ‖ item_version (4) ‖
    /// issued_at (5) ‖ valid_until (5) ‖ restricted (32) ‖ the item's length (2) ‖ the item ‖
    /// document_no (the rest), numbers big-endian (the two times in 5 bytes: a payload with a time
    /// after 2^40 - 1, the year 36812, has no compact form): the expansion is canonical unless a
    /// string is longer than MAX_STRING_BYTES (refused as the canonical payload is,
    /// `LedgerMalformedPayload`). `_leaves` refuses the whole input when the item's length
    /// runs past the payload (and expands the same way, inlined, to hash the payload).
    function _expandApproval(uint256 at, uint256 size)
        private
        pure
        returns (bytes memory payload, bool canonical)
    {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            payload := mload(0x40)
            let copy := add(payload, 0x20)
            let codeLength := shr(240, calldataload(add(at, 48)))
            let w := calldataload(at)
            mstore(copy, byte(0, w)) // stage
            mstore(add(copy, 0x20), byte(1, w)) // decision
            mstore(add(copy, 0x40), 0x100) // item's offset
            mstore(add(copy, 0x60), shr(224, shl(16, w))) // item_version
            let document := add(0x120, and(add(codeLength, 31), not(31)))
            mstore(add(copy, 0x80), document) // document_no's offset
            mstore(add(copy, 0xa0), shr(216, calldataload(add(at, 6)))) // issued_at
            mstore(add(copy, 0xc0), shr(216, calldataload(add(at, 11)))) // valid_until
            mstore(add(copy, 0xe0), calldataload(add(at, 16))) // restricted
            mstore(add(copy, 0x100), codeLength)
            calldatacopy(add(copy, 0x120), add(at, 50), codeLength)
            mstore(add(copy, add(0x120, codeLength)), 0) // the padding
            let documentLength := sub(size, add(50, codeLength))
            mstore(add(copy, document), documentLength)
            calldatacopy(add(copy, add(document, 0x20)), add(at, add(50, codeLength)), documentLength)
            mstore(add(copy, add(add(document, 0x20), documentLength)), 0)
            let length := add(document, add(0x20, and(add(documentLength, 31), not(31))))
            mstore(payload, length)
            mstore(0x40, add(copy, length))
            canonical := iszero(or(gt(codeLength, MAX_STRING_BYTES), gt(documentLength, MAX_STRING_BYTES)))
        }
    }

    /// @dev The `length` bytes of calldata at offset `at`, as `bytes calldata`.
    function _calldata(uint256 at, uint256 length) private pure returns (bytes calldata data) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            data.offset := at
            data.length := length
        }
    }

    /// @dev Where each group's leaves start when laid out group by group: the number of records
    /// of the groups before it. Reverts with LedgerUnknownGroup for a group beyond `groups`.
    function _groupStarts(bytes calldata groupOf, uint256 groups) private pure returns (uint256[] memory start) {
        uint256 n = groupOf.length;
        start = new uint256[](groups);
        uint256 unknown = n; // the first record naming a group beyond `groups`, n when none does
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            switch groups
            case 1 {
                // One group (a bulk batch): every byte 0, read a word at a time. A nonzero byte past
                // the end (what follows `groupOf` in the input) is found at an index >= n: no record's.
                for { let i := 0 } lt(i, n) { i := add(i, 32) } {
                    let w := calldataload(add(groupOf.offset, i))
                    if w {
                        unknown := i
                        for { let j := 0 } iszero(byte(j, w)) { j := add(j, 1) } {
                            unknown := add(unknown, 1)
                        }
                        break
                    }
                }
                mstore(add(start, 0x20), n)
            }
            default {
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let g := byte(0, calldataload(add(groupOf.offset, i)))
                    if iszero(lt(g, groups)) {
                        unknown := i
                        break
                    }
                    let at := add(start, shl(5, add(g, 1)))
                    mstore(at, add(mload(at), 1))
                }
            }
        }
        if (unknown < n) revert LedgerUnknownGroup(unknown, uint8(groupOf[unknown]));
        uint256 counted = 0;
        for (uint256 g = 0; g < groups; ) {
            unchecked {
                counted += start[g];
                start[g] = counted - start[g];
                ++g;
            }
        }
    }

    /// @dev A record's leaf: keccak256(0x00 ‖ structHash), its EIP-712 struct hash (the domain,
    /// chain and ledger, is bound by the group seal over the root). Leaves and inner nodes
    /// (keccak256(0x01 ‖ left ‖ right)) are hashed under different prefixes, as in RFC 6962,
    /// so that no inner node can be passed off as a leaf (second preimage).
    function _leaf(bytes32 structHash) private pure returns (bytes32 leaf) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore8(m, 0)
            mstore(add(m, 1), structHash)
            leaf := keccak256(m, 0x21)
        }
    }

    /// @dev The Merkle root of the `count` (> 0) leaves at memory `at`, folded in place: each
    /// level pairs neighbours left to right, keccak256(0x01 ‖ left ‖ right), and a last node
    /// without a partner moves up unchanged. That is RFC 6962's tree shape (the left subtree
    /// holds the largest power of two below the count) with keccak256 for SHA-256.
    function _root(uint256 at, uint256 count) private pure returns (bytes32 root) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore8(m, 1)
            for { let w := count } gt(w, 1) { w := add(shr(1, w), and(w, 1)) } {
                let half := shr(1, w)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let pair := add(at, shl(6, i))
                    mstore(add(m, 1), mload(pair))
                    mstore(add(m, 0x21), mload(add(pair, 0x20)))
                    mstore(add(at, shl(5, i)), keccak256(m, 0x41))
                }
                if and(w, 1) { mstore(add(at, shl(5, half)), mload(add(at, shl(5, sub(w, 1))))) }
            }
            root := mload(at)
        }
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
        ProjectInfo storage p = _projects[projectId];
        return g.kind == KIND_GRANT && g.status == STATUS_ACTIVE && g.subject == org && g.project == p.number
            && !p.closed && g.expiresAt > block.timestamp;
    }

    /// @inheritdoc IProjectLedger
    function catalogueItem(bytes32 key) external view returns (Item memory) {
        return _items[key];
    }

    /// @inheritdoc IProjectLedger
    function hashRecord(Record calldata record) public view returns (bytes32) {
        return _hashTypedDataV4(_structHash(record));
    }

    /// @inheritdoc IProjectLedger
    function consortium() external view returns (address) {
        return address(_CONSORTIUM);
    }

    /// @dev keccak256(abi.encode(RECORD_TYPEHASH, uid, kind, project, ref, digest,
    /// keccak256(payload))), hashed in free memory without allocating it.
    function _structHash(Record calldata r) private pure returns (bytes32 hash) {
        bytes32 typeHash = RECORD_TYPEHASH;
        (bytes32 uid, uint8 kind, bytes32 projectId, bytes32 ref, bytes32 digest) =
            (r.uid, r.kind, r.project, r.ref, r.digest);
        bytes calldata payload = r.payload;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, payload.offset, payload.length)
            let payloadHash := keccak256(m, payload.length)
            mstore(m, typeHash)
            mstore(add(m, 0x20), uid)
            mstore(add(m, 0x40), kind)
            mstore(add(m, 0x60), projectId)
            mstore(add(m, 0x80), ref)
            mstore(add(m, 0xa0), digest)
            mstore(add(m, 0xc0), payloadHash)
            hash := keccak256(m, 0xe0)
        }
    }

    /// @dev Applies one record, or returns the custom error that refuses it (nothing written then).
    function _accept(Record calldata record, Seal calldata seal, Scratch memory scratch)
        private
        returns (bytes memory refusal)
    {
        Entry storage slot = _entries[record.uid];
        if (slot.kind != 0) return abi.encodeWithSelector(LedgerDuplicateRecord.selector, record.uid);
        Head memory r = scratch.head;
        (r.uid, r.kind, r.project, r.ref, r.digest) =
            (record.uid, record.kind, record.project, record.ref, record.digest);
        (bytes memory payload, bool canonical) = _payload(r.kind, record.payload);
        bytes32 recordHash = _hashTypedDataV4(_hashHead(r, payload));
        (address signer, bytes memory sealRefusal) = _recover(recordHash, seal);
        if (sealRefusal.length != 0) return sealRefusal;
        return _apply(r, payload, canonical, slot, signer, _sealer(signer, scratch), scratch);
    }

    /// @dev Applies one record whose seal key `signer` (with the consortium's `answer` for it)
    /// is established, by its own seal or by its group's; returns the refusal, empty if accepted.
    /// `canonical`: whether `payload` is in its kind's canonical shape (see `_check`).
    function _apply(
        Head memory r,
        bytes memory payload,
        bool canonical,
        Entry storage slot,
        address signer,
        uint256 answer,
        Scratch memory scratch
    ) private returns (bytes memory refusal) {
        if (answer >> 40 == 0) return abi.encodeWithSelector(LedgerInvalidSeal.selector, r.uid, signer);
        uint32 org = uint32(answer);
        // An organisation issues uids in its own namespace only: no member can take (or
        // front-run) a uid another organisation derived.
        if (uint32(bytes4(r.uid)) != org) {
            return abi.encodeWithSelector(LedgerUidNotIssuers.selector, r.uid, org);
        }
        Change memory c = scratch.change;
        refusal = _check(r, payload, canonical, org, uint8(answer >> 32), c);
        if (refusal.length != 0) return refusal;
        _commit(r, slot, c);
        emit RecordAdded(r.uid, r.project);
        // accepted: `refusal` is the empty result of `_check`
    }

    /// @dev The consortium's answer for seal key `key` (org | roles << 32 | active << 40), asked
    /// once per transaction and key (see `Scratch`).
    function _sealer(address key, Scratch memory scratch) private view returns (uint256 answer) {
        if (key == scratch.lastKey) return scratch.lastAnswer;
        uint256 known = scratch.known;
        uint256 held = known < KEY_CACHE ? known : KEY_CACHE;
        for (uint256 i = 0; i < held; ) {
            if (scratch.keys[i] == key) {
                (scratch.lastKey, scratch.lastAnswer) = (key, scratch.answers[i]);
                return scratch.lastAnswer;
            }
            unchecked {
                ++i;
            }
        }
        (uint32 org, uint8 roles, bool active) = _CONSORTIUM.sealer(key);
        answer = uint256(org) | (uint256(roles) << 32) | (active ? 1 << 40 : 0);
        uint256 at = known % KEY_CACHE;
        (scratch.keys[at], scratch.answers[at], scratch.known) = (key, answer, known + 1);
        (scratch.lastKey, scratch.lastAnswer) = (key, answer);
    }

    /// @dev Writes what `_check` decided: the entry, a new project, the referenced record's status.
    function _commit(Head memory r, Entry storage slot, Change memory c) private {
        _store(slot, c.entry);
        if (c.registers) {
            _projectCount = c.entry.project;
            _projects[r.project] = ProjectInfo({number: c.entry.project, registrant: c.entry.issuer, closed: false});
        }
        if (c.closesProject) _projects[r.project].closed = true;
        if (c.writesItem) _items[c.itemKey] = c.item;
        if (c.refStatus != STATUS_NONE) {
            Entry storage target = _entries[r.ref];
            target.status = c.refStatus;
            if (c.objector != 0) target.subject = c.objector;
            emit StatusChanged(r.ref, c.refStatus, r.uid);
        }
    }

    /// @dev Checks a record against the rules (reads only) and fills `c`; returns the refusal, empty if accepted.
    /// `payload` is in memory; `canonical` says whether it is in its kind's canonical shape (the caller
    /// checks it, `_payload` or `_expandApproval`): the rules read it only when it is.
    // solhint-disable-next-line function-max-lines
    function _check(
        Head memory r,
        bytes memory payload,
        bool canonical,
        uint32 org,
        uint8 roles,
        Change memory c
    )
        private
        view
        returns (bytes memory)
    {
        // `c` is reused from the previous record: every field is set here.
        Entry memory e = c.entry;
        (e.kind, e.status, e.level, e.issuer, e.project) = (r.kind, STATUS_RECORDED, 0, org, 0);
        (e.recordedAt, e.subject, e.expiresAt) = (uint40(block.timestamp), 0, 0);
        (c.refStatus, c.registers, c.closesProject, c.objector, c.writesItem) = (STATUS_NONE, false, false, 0, false);

        uint8 kind = r.kind;
        bytes32 shape = _shape(kind);
        if (shape == 0) return abi.encodeWithSelector(LedgerUnknownKind.selector, kind);
        if (!canonical) return abi.encodeWithSelector(LedgerMalformedPayload.selector, r.uid);
        if (kind == KIND_ANCHOR) {
            // Any member anchors its own access-log root: no project, nothing it refers to.
            if (r.project != 0 || r.ref != 0) return abi.encodeWithSelector(LedgerAnchorFields.selector, r.uid);
            return "";
        }
        if (kind == KIND_CATALOGUE) {
            if (roles & ROLE_CATALOGUE == 0) return _missingRole(r, org, ROLE_CATALOGUE);
            return _checkCatalogue(r, payload, c);
        }
        if (kind == KIND_PROJECT) {
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            return _checkRegistration(r, payload, org, c);
        }
        ProjectInfo storage p = _projects[r.project];
        if (p.number == 0) return abi.encodeWithSelector(LedgerUnknownProject.selector, r.project);
        e.project = p.number;
        bool opens = kind == KIND_APPROVAL || kind == KIND_COMMITMENT || kind == KIND_GRANT
            || kind == KIND_ACCEPTANCE || kind == KIND_CHECKLIST;
        if (p.closed && opens) {
            return abi.encodeWithSelector(LedgerProjectClosed.selector, r.project);
        }
        bytes memory refusal;
        if (kind == KIND_APPROVAL) {
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            (e.level, refusal) = _small(r.uid, payload, 0, 1, 4); // stage 1-4
            uint8 decision;
            if (refusal.length == 0) (decision, refusal) = _small(r.uid, payload, 1, 0, 3);
            if (refusal.length == 0 && !_itemAllows(payload, org, e.level, decision)) {
                refusal = _itemRefusal(payload, org, e.level, decision);
            }
            e.subject = uint32(decision) + 1; // what a commitment bound to this approval is checked against
            e.status = STATUS_ACTIVE;
        } else if (kind == KIND_EVENT) {
            if (roles & ROLE_SUPERVISOR == 0) return _missingRole(r, org, ROLE_SUPERVISOR);
            (e.level, refusal) = _small(r.uid, payload, 0, SEVERITY_SLIGHT, SEVERITY_SERIOUS);
            e.status = STATUS_OPEN;
            e.expiresAt = uint40(block.timestamp); // the 信用修复 wait runs from the report
        } else if (kind == KIND_COMMITMENT) {
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            (e.level, refusal) = _small(r.uid, payload, 0, 1, 4); // commitment type
            if (refusal.length == 0) refusal = _checkBoundApproval(payload, org, e.project, e.level);
            e.status = STATUS_PENDING;
        } else if (kind == KIND_GRANT) {
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            if (p.registrant != org) return abi.encodeWithSelector(LedgerNotIssuer.selector, r.project, org);
            if (r.ref != 0) {
                // A grant supersedes nothing; a ref would only mislead a reader of the record.
                return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, kind, _entries[r.ref].status);
            }
            return _checkGrant(r, payload, e);
        } else if (kind == KIND_CHECKLIST) {
            // The project's registrant (its filing authority) lists the items the project must pass.
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            if (p.registrant != org) return abi.encodeWithSelector(LedgerNotIssuer.selector, r.project, org);
            refusal = _checkChecklist(r.uid, payload, e);
            e.status = STATUS_ACTIVE;
        } else if (kind == KIND_ACCEPTANCE) {
            if (roles & ROLE_APPROVAL_AUTHORITY == 0) return _missingRole(r, org, ROLE_APPROVAL_AUTHORITY);
            if (r.ref != 0) {
                // An acceptance supersedes nothing: it is closed by its 批复.
                return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, kind, _entries[r.ref].status);
            }
            return _checkAcceptance(payload, org, e);
        } else if (kind >= KIND_REVOCATION && kind <= KIND_RESUME) {
            return _checkStatusChange(r, org, roles, c);
        } else {
            return abi.encodeWithSelector(LedgerUnknownKind.selector, kind);
        }
        // Approvals, events and commitments that carry a `ref` supersede it.
        if (refusal.length != 0 || r.ref == 0) return refusal;
        return _checkSupersede(r, org, e.status, c);
    }

    function _checkRegistration(Head memory r, bytes memory payload, uint32 org, Change memory c)
        private
        view
        returns (bytes memory)
    {
        Entry memory e = c.entry;
        e.status = STATUS_ACTIVE;
        (, bytes memory refusal) = _small(r.uid, payload, 3, 1, 3); // project type 审批 / 核准 / 备案
        if (refusal.length != 0) return refusal;
        if (r.ref != 0) {
            // A correction of the registration: same project, issuer's own record.
            e.project = _projects[r.project].number;
            if (e.project == 0) return abi.encodeWithSelector(LedgerUnknownProject.selector, r.project);
            refusal = _checkSupersede(r, org, STATUS_ACTIVE, c);
            if (refusal.length != 0) return refusal;
        } else {
            if (_projects[r.project].number != 0) {
                return abi.encodeWithSelector(LedgerProjectExists.selector, r.project);
            }
            e.project = _projectCount + 1;
            c.registers = true;
        }
        // The payload's first field is the project code; the id must be its hash.
        if (_stringHash(payload, 0) != r.project) {
            return abi.encodeWithSelector(LedgerProjectCodeMismatch.selector, r.project);
        }
        return "";
    }

    /// @dev A catalogue item's next version (append-only: the current version + 1), issued by the
    /// catalogue role: no project, no ref; every enumeration in range; the department an
    /// admitted organisation. The entry keeps the stage (`level`) and the version (`subject`).
    function _checkCatalogue(Head memory r, bytes memory payload, Change memory c)
        private
        view
        returns (bytes memory refusal)
    {
        if (r.project != 0 || r.ref != 0) return abi.encodeWithSelector(LedgerCatalogueFields.selector, r.uid);
        uint256 codeLength = _stringLength(payload, 0);
        if (codeLength == 0 || codeLength > MAX_ITEM_CODE_BYTES) {
            return abi.encodeWithSelector(LedgerInvalidValue.selector, r.uid, 0, codeLength);
        }
        bytes32 key = _stringHash(payload, 0);
        uint32 current = _items[key].version;
        uint256 version = _word(payload, 1); // a uint32: `_canonical` checked its width
        if (version != uint256(current) + 1) {
            return abi.encodeWithSelector(LedgerCatalogueVersion.selector, key, uint32(version), current);
        }
        if (_stringLength(payload, 2) == 0) return abi.encodeWithSelector(LedgerInvalidValue.selector, r.uid, 2, 0);
        Item memory it = c.item;
        (it.stage, refusal) = _small(r.uid, payload, 3, 1, 4);
        if (refusal.length == 0) (it.list, refusal) = _small(r.uid, payload, 4, 1, 3);
        if (refusal.length != 0) return refusal;
        uint256 department = _word(payload, 5);
        if (department == 0 || department > _CONSORTIUM.organizationCount()) {
            return abi.encodeWithSelector(LedgerInvalidValue.selector, r.uid, 5, department);
        }
        uint8 onTheSpot;
        uint8 retired;
        (onTheSpot, refusal) = _small(r.uid, payload, 7, 0, 1);
        if (refusal.length == 0) (it.commitment, refusal) = _small(r.uid, payload, 8, 0, 3);
        if (refusal.length == 0) (retired, refusal) = _small(r.uid, payload, 9, 0, 1);
        if (refusal.length != 0) return refusal;
        (it.version, it.department, it.timeLimit) = (uint32(version), uint32(department), uint32(_word(payload, 6)));
        it.flags = (onTheSpot == 0 ? 0 : ITEM_ON_THE_SPOT) | (retired == 0 ? 0 : ITEM_RETIRED);
        (c.writesItem, c.itemKey) = (true, key);
        (c.entry.level, c.entry.subject) = (it.stage, uint32(version));
        return "";
    }

    /// @dev Whether an approval's item allows it: the item is in the catalogue, not retired, and the
    /// approval names its version in force, is issued by its department, in its stage, with a
    /// decision its 承诺制 type allows (approved_on_commitment: 信用承诺制; accepted_with_deficiencies:
    /// 容缺受理). The item's slot is read once, raw, and version, department and stage are compared
    /// at once; `_itemRefusal` says which rule a refused approval broke.
    function _itemAllows(bytes memory payload, uint32 org, uint8 stage, uint8 decision)
        private
        view
        returns (bool)
    {
        uint256 item = _item(_stringHash(payload, 2));
        uint256 commitment = (item >> 112) & 0xff;
        // version == item_version, department == org, stage == stage (and so version != 0: org never is 0)
        uint256 expected = _word(payload, 3) | (uint256(org) << 32) | (uint256(stage) << 96);
        return item & ITEM_MATCH_MASK == expected && (item >> 120) & ITEM_RETIRED == 0
            && (decision != DECISION_ON_COMMITMENT || commitment == ITEM_COMMITMENT_CREDIT)
            && (decision != DECISION_WITH_DEFICIENCIES || commitment == ITEM_COMMITMENT_DEFICIENCY);
    }

    /// @dev The refusal of an approval `_itemAllows` refused, in the order the rules are listed there.
    function _itemRefusal(bytes memory payload, uint32 org, uint8 stage, uint8 decision)
        private
        view
        returns (bytes memory)
    {
        bytes32 key = _stringHash(payload, 2);
        uint256 item = _item(key);
        uint32 version = uint32(item);
        uint256 given = _word(payload, 3); // item_version, a uint32: `_canonical` checked its width
        if (version == 0) return abi.encodeWithSelector(LedgerUnknownItem.selector, key);
        if ((item >> 120) & ITEM_RETIRED != 0) return abi.encodeWithSelector(LedgerItemRetired.selector, key);
        if (given != version) {
            return abi.encodeWithSelector(LedgerCatalogueVersion.selector, key, uint32(given), version);
        }
        if (uint32(item >> 32) != org) return abi.encodeWithSelector(LedgerNotItemDepartment.selector, key, org);
        if (uint8(item >> 96) != stage) return abi.encodeWithSelector(LedgerItemStage.selector, key, stage);
        return abi.encodeWithSelector(LedgerDecisionNotAllowed.selector, key, decision);
    }

    /// @dev A part of a project's checklist (一张清单): part in [1, parts], at least one item, one version
    /// per item, and each item in the catalogue, not retired, named at its version in force. The entry
    /// keeps the part (`level`) and the number of items (`subject`).
    function _checkChecklist(bytes32 uid, bytes memory payload, Entry memory e)
        private
        view
        returns (bytes memory refusal)
    {
        uint8 parts;
        (parts, refusal) = _small(uid, payload, 1, 1, type(uint8).max);
        if (refusal.length == 0) (e.level, refusal) = _small(uid, payload, 0, 1, parts);
        if (refusal.length != 0) return refusal;
        // Offsets of a canonical payload are whole words: the arrays' items are words of the payload.
        uint256 items = _word(payload, 2) >> 5;
        uint256 versions = _word(payload, 3) >> 5;
        uint256 count = _word(payload, items);
        if (count == 0) return abi.encodeWithSelector(LedgerInvalidValue.selector, uid, 2, 0);
        if (_word(payload, versions) != count) {
            return abi.encodeWithSelector(LedgerInvalidValue.selector, uid, 3, _word(payload, versions));
        }
        for (uint256 i = 1; i <= count; ++i) {
            bytes32 key = bytes32(_word(payload, items + i));
            uint256 item = _item(key);
            uint256 given = _word(payload, versions + i);
            if (uint32(item) == 0) return abi.encodeWithSelector(LedgerUnknownItem.selector, key);
            if ((item >> 120) & ITEM_RETIRED != 0) return abi.encodeWithSelector(LedgerItemRetired.selector, key);
            if (given != uint32(item)) {
                return abi.encodeWithSelector(LedgerCatalogueVersion.selector, key, uint32(given), uint32(item));
            }
        }
        e.subject = uint32(count);
        return "";
    }

    /// @dev A 受理 of a catalogue item: the item is in the catalogue, not retired, the acceptance names its
    /// version in force and is issued by its department (an approval's checks, less stage and decision).
    /// The entry keeps the item's stage (`level`) and version (`subject`); it runs (STATUS_OPEN).
    function _checkAcceptance(bytes memory payload, uint32 org, Entry memory e) private view returns (bytes memory) {
        bytes32 key = _stringHash(payload, 0);
        uint256 item = _item(key);
        uint32 version = uint32(item);
        uint256 given = _word(payload, 1); // item_version, a uint32: `_canonical` checked its width
        if (version == 0) return abi.encodeWithSelector(LedgerUnknownItem.selector, key);
        if ((item >> 120) & ITEM_RETIRED != 0) return abi.encodeWithSelector(LedgerItemRetired.selector, key);
        if (given != version) {
            return abi.encodeWithSelector(LedgerCatalogueVersion.selector, key, uint32(given), version);
        }
        if (uint32(item >> 32) != org) return abi.encodeWithSelector(LedgerNotItemDepartment.selector, key, org);
        (e.level, e.subject, e.status) = (uint8(item >> 96), version, STATUS_OPEN);
        return "";
    }

    /// @dev `_items[key]` as one word, packed as `Item` declares it from the low-order end: version
    /// (bits 0-31), department (32-63), time limit (64-95), stage (96-103), list (104-111),
    /// commitment (112-119), flags (120-127).
    function _item(bytes32 key) private view returns (uint256 item) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, key)
            mstore(0x20, _items.slot)
            item := sload(keccak256(0x00, 0x40))
        }
    }

    /// @dev A commitment that names an approval (payload field 1, 0 for none) is bound to it: an
    /// active approval of the same project by the same organisation, whose decision calls for a
    /// commitment of this type (approved_on_commitment: 审批替代型; accepted_with_deficiencies: 容缺受理型).
    function _checkBoundApproval(bytes memory payload, uint32 org, uint32 projectNo, uint8 commitmentType)
        private
        view
        returns (bytes memory)
    {
        bytes32 approval = bytes32(_word(payload, 1));
        if (approval == 0) return "";
        Entry storage a = _entries[approval];
        uint32 decisionPlusOne = a.subject;
        bool matches = (
            commitmentType == COMMITMENT_APPROVAL_SUBSTITUTE && decisionPlusOne == uint32(DECISION_ON_COMMITMENT) + 1
        ) || (
            commitmentType == COMMITMENT_DEFICIENCY_ACCEPTANCE
                && decisionPlusOne == uint32(DECISION_WITH_DEFICIENCIES) + 1
        );
        if (
            !matches || a.kind != KIND_APPROVAL || a.project != projectNo || a.issuer != org
                || a.status != STATUS_ACTIVE
        ) {
            return abi.encodeWithSelector(LedgerCommitmentApproval.selector, approval);
        }
        return "";
    }

    function _checkGrant(Head memory r, bytes memory payload, Entry memory e)
        private
        view
        returns (bytes memory refusal)
    {
        uint256 grantee = _word(payload, 0);
        if (grantee == 0 || grantee > _CONSORTIUM.organizationCount()) {
            return abi.encodeWithSelector(LedgerInvalidValue.selector, r.uid, 0, grantee);
        }
        e.subject = uint32(grantee);
        // scope (documents, restricted fields, all), kept in `level`: a reader checks a grant against
        // the ledger's own state, never only against an indexed payload
        (e.level, refusal) = _small(r.uid, payload, 1, 1, 3);
        if (refusal.length != 0) return refusal;
        uint256 expiresAt = _word(payload, 2);
        if (expiresAt > type(uint40).max) return abi.encodeWithSelector(LedgerInvalidValue.selector, r.uid, 2, expiresAt);
        e.expiresAt = uint40(expiresAt);
        e.status = STATUS_ACTIVE;
        return "";
    }

    /// @dev A live record of the same kind by the same issuer becomes superseded. An event's
    /// correction may not lower its severity, and keeps the original report's repair clock:
    /// otherwise a correction would shorten the 信用修复 wait.
    function _checkSupersede(Head memory r, uint32 org, uint8 liveStatus, Change memory c)
        private
        view
        returns (bytes memory)
    {
        (Entry storage old, bytes memory refusal) = _target(r.ref, c.entry.project);
        if (refusal.length != 0) return refusal;
        if (old.kind != r.kind || old.status != liveStatus) {
            return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, r.kind, old.status);
        }
        if (old.issuer != org) return abi.encodeWithSelector(LedgerNotIssuer.selector, r.ref, org);
        if (r.kind == KIND_EVENT) {
            Entry memory e = c.entry;
            if (e.level < old.level) {
                return abi.encodeWithSelector(LedgerSeverityLowered.selector, r.ref, old.level, e.level);
            }
            e.expiresAt = old.expiresAt;
        }
        c.refStatus = STATUS_SUPERSEDED;
        return "";
    }

    function _checkStatusChange(Head memory r, uint32 org, uint8 roles, Change memory c)
        private
        view
        returns (bytes memory refusal)
    {
        Entry storage t;
        (t, refusal) = _target(r.ref, c.entry.project);
        if (refusal.length != 0) return refusal;
        uint8 kind = r.kind;
        if (kind == KIND_REVOCATION) {
            // Only the issuer revokes its own approval, registration or grant.
            if (t.issuer != org) return abi.encodeWithSelector(LedgerNotIssuer.selector, r.ref, org);
            bool revocable = t.kind == KIND_APPROVAL || t.kind == KIND_GRANT || t.kind == KIND_PROJECT;
            if (!revocable || t.status != STATUS_ACTIVE) {
                return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, kind, t.status);
            }
            c.closesProject = t.kind == KIND_PROJECT;
            c.refStatus = STATUS_REVOKED;
        } else if (kind == KIND_FULFILMENT || kind == KIND_BREACH) {
            uint8 needed = ROLE_APPROVAL_AUTHORITY | ROLE_SUPERVISOR;
            if (roles & needed == 0) return _missingRole(r, org, needed);
            if (t.kind != KIND_COMMITMENT || t.status != STATUS_PENDING) {
                return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, kind, t.status);
            }
            c.refStatus = kind == KIND_FULFILMENT ? STATUS_FULFILLED : STATUS_BREACHED;
        } else if (kind >= KIND_PAUSE) {
            // 暂停计时 only a running acceptance, 恢复计时 only a paused one, by the department that accepted it.
            if (t.issuer != org) return abi.encodeWithSelector(LedgerNotIssuer.selector, r.ref, org);
            if (t.kind != KIND_ACCEPTANCE || t.status != (kind == KIND_PAUSE ? STATUS_OPEN : STATUS_PAUSED)) {
                return abi.encodeWithSelector(LedgerIllegalTransition.selector, r.ref, kind, t.status);
            }
            c.refStatus = kind == KIND_PAUSE ? STATUS_PAUSED : STATUS_OPEN;
        } else {
            if (roles & ROLE_SUPERVISOR == 0) return _missingRole(r, org, ROLE_SUPERVISOR);
            (c.refStatus, refusal) = _eventTransition(r.ref, kind, t, org);
            if (refusal.length == 0 && kind == KIND_OBJECTION) c.objector = org;
        }
    }

    /// @dev reported → (objection → upheld / rejected, by another organisation than the
    /// objector's) → resolved → repaired, no earlier than the severity's wait after the report.
    function _eventTransition(bytes32 ref, uint8 kind, Entry storage t, uint32 org)
        private
        view
        returns (uint8 next, bytes memory refusal)
    {
        uint8 s = t.status;
        if (t.kind == KIND_EVENT) {
            if (kind == KIND_RESOLUTION && s == STATUS_OPEN) return (STATUS_RESOLVED, "");
            if (kind == KIND_OBJECTION && s == STATUS_OPEN) return (STATUS_OBJECTED, "");
            if ((kind == KIND_OBJECTION_UPHELD || kind == KIND_OBJECTION_REJECTED) && s == STATUS_OBJECTED) {
                if (t.subject == org) return (0, abi.encodeWithSelector(LedgerSelfDecision.selector, ref, org));
                return (kind == KIND_OBJECTION_UPHELD ? STATUS_ANNULLED : STATUS_OPEN, "");
            }
            if (kind == KIND_REPAIR && s == STATUS_RESOLVED) {
                uint256 wait = t.level == SEVERITY_SERIOUS
                    ? REPAIR_WAIT_SERIOUS
                    : (t.level == SEVERITY_GENERAL ? REPAIR_WAIT_GENERAL : REPAIR_WAIT_SLIGHT);
                uint256 allowedFrom = uint256(t.expiresAt) + wait; // the original report's time
                if (block.timestamp < allowedFrom) {
                    return (0, abi.encodeWithSelector(LedgerRepairTooEarly.selector, ref, allowedFrom));
                }
                return (STATUS_REPAIRED, "");
            }
        }
        return (0, abi.encodeWithSelector(LedgerIllegalTransition.selector, ref, kind, s));
    }

    function _target(bytes32 ref, uint32 projectNo) private view returns (Entry storage t, bytes memory refusal) {
        t = _entries[ref];
        if (t.kind == 0) return (t, abi.encodeWithSelector(LedgerUnknownRecord.selector, ref));
        if (t.project != projectNo) return (t, abi.encodeWithSelector(LedgerCrossProject.selector, ref));
    }

    /// @dev `slot = e` in one SSTORE: the compiler writes a struct field by field, each a
    /// read-modify-write of the same slot. The layout is `Entry`'s, fields packed from the
    /// low-order end in declaration order (the `entry` view reads it back in the tests).
    function _store(Entry storage slot, Entry memory e) private {
        uint256 packed = uint256(e.kind) | (uint256(e.status) << 8) | (uint256(e.level) << 16)
            | (uint256(e.issuer) << 24) | (uint256(e.project) << 56) | (uint256(e.recordedAt) << 88)
            | (uint256(e.subject) << 128) | (uint256(e.expiresAt) << 160);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(slot.slot, packed)
        }
    }

    function _missingRole(Head memory r, uint32 org, uint8 role) private pure returns (bytes memory) {
        return abi.encodeWithSelector(LedgerMissingRole.selector, r.uid, org, role);
    }

    /// @dev The seal key of an EIP-2098 seal, straight from the ecrecover precompile (what
    /// OpenZeppelin's ECDSA.tryRecover does, without its generic error plumbing); refused with
    /// that library's errors for a high `s` or a signature that recovers no key.
    function _recover(bytes32 hash, Seal calldata seal) private view returns (address signer, bytes memory refusal) {
        bytes32 r = seal.r;
        bytes32 vs = seal.vs;
        uint256 s = uint256(vs) & ~uint256(1 << 255);
        if (s > HALF_ORDER) return (address(0), abi.encodeWithSelector(ECDSAInvalidSignatureS.selector, bytes32(s)));
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The precompile's input (hash, v, r, s) in free memory, which stays free.
            let m := mload(0x40)
            mstore(m, hash)
            mstore(add(m, 0x20), add(shr(255, vs), 27))
            mstore(add(m, 0x40), r)
            mstore(add(m, 0x60), s)
            // No output (returndatasize 0) when the signature recovers no key. The call itself
            // fails only when out of gas, which must revert the whole transaction.
            mstore(0x00, 0)
            if iszero(staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20)) { revert(0, 0) }
            signer := mload(0x00)
        }
        if (signer == address(0)) return (address(0), abi.encodeWithSelector(ECDSAInvalidSignature.selector));
    }

    /// @dev The payload shape of a kind (Common.sol's SHAPE_*), 0 for an unknown kind.
    function _shape(uint8 kind) private pure returns (bytes32) {
        if (kind == KIND_APPROVAL) return SHAPE_APPROVAL; // the commonest first
        if (kind >= KIND_REVOCATION) {
            if (kind <= KIND_BREACH) return SHAPE_STATUS_CHANGE;
            return kind <= KIND_RESUME ? SHAPE_PAUSE : bytes32(0);
        }
        if (kind == KIND_EVENT) return SHAPE_EVENT;
        if (kind == KIND_COMMITMENT) return SHAPE_COMMITMENT;
        if (kind == KIND_PROJECT) return SHAPE_PROJECT;
        if (kind == KIND_GRANT) return SHAPE_GRANT;
        if (kind == KIND_ANCHOR) return SHAPE_ANCHOR;
        if (kind == KIND_CATALOGUE) return SHAPE_CATALOGUE;
        if (kind == KIND_CHECKLIST) return SHAPE_CHECKLIST;
        if (kind == KIND_ACCEPTANCE) return SHAPE_ACCEPTANCE;
        return 0;
    }

    /// @dev Whether `payload` is exactly `abi.encode` of a tuple of the types `shape` lists
    /// (one letter a field, see Common.sol), the one encoding a decoder's output re-encodes
    /// to: each static word in its type's range; each dynamic field's offset the running end
    /// of the data before it (the head's end for the first), so the data follow the head in
    /// order without gap or overlap; a string at most MAX_STRING_BYTES long and zero-padded
    /// to a whole word; a bytes32[] at most MAX_ARRAY_ITEMS long; nothing after the last
    /// field. Nothing can hide in a payload then, and an indexer that decodes it reads
    /// exactly what the contract checked. Reads only; never reverts.
    function _canonical(bytes calldata payload, bytes32 shape) private pure returns (bool ok) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The number of fields: each letter's bit 6 (set in every letter) moved to bit 0 of
            // its byte, then all 32 bytes summed into the top one by one multiplication.
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let fields := byte(0, mul(and(shr(6, shape), ones), ones))

            // Every rule broken sets bits of `bad`, which stay set. While none is, every length
            // was within its limit and the end of the data read only grew, so ending exactly at
            // the payload's size means every word read lay inside the payload; once one is, what
            // else the loop reads (a crafted offset may point anywhere) no longer matters.
            let base := payload.offset
            let size := payload.length
            let end := shl(5, fields) // the dynamic fields' data starts after the head
            let bad := gt(end, size)
            let letters := shape
            for { let p := base } lt(p, add(base, shl(5, fields))) { p := add(p, 0x20) } {
                let code := byte(shr(251, shl(3, letters)), TYPE_CODES) // the next letter's low 5 bits
                letters := shl(8, letters)
                let w := calldataload(p)
                // A static word must fit in its type's width; a dynamic code shifts every word out.
                bad := or(bad, shr(shl(3, code), w))
                if gt(code, 0x20) {
                    // The offset is where the data so far ends; there a length word.
                    bad := or(bad, xor(w, end))
                    let length := calldataload(add(base, end))
                    switch code
                    case 0x40 {
                        // string: its bytes, zero-padded to a whole word
                        bad := or(bad, gt(length, MAX_STRING_BYTES))
                        end := add(end, add(0x20, and(add(length, 31), not(31))))
                        let tail := and(length, 31)
                        if tail { bad := or(bad, shl(shl(3, tail), calldataload(add(base, sub(end, 0x20))))) }
                    }
                    default {
                        // bytes32[]: its items
                        bad := or(bad, gt(length, MAX_ARRAY_ITEMS))
                        end := add(end, add(0x20, shl(5, length)))
                    }
                }
            }
            ok := and(iszero(bad), eq(end, size))
        }
    }

    /// @dev `_canonical(payload, SHAPE_APPROVAL)`, unrolled for the commonest kind (the loop over
    /// the shape's letters costs ≈ 1,600 gas more for an approval's eight fields): stage and
    /// decision uint8, item a string, item_version uint32, document_no a string, issued_at and
    /// valid_until uint64, restricted bytes32. The same rules, field by field, in the same order.
    function _canonicalApproval(bytes calldata payload) private pure returns (bool ok) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let base := payload.offset
            let size := payload.length
            // The static words in their types' widths (restricted, a bytes32, takes any word).
            let bad := gt(0x100, size)
            bad := or(bad, shr(8, or(calldataload(base), calldataload(add(base, 0x20)))))
            bad := or(bad, shr(32, calldataload(add(base, 0x60))))
            bad := or(bad, shr(64, or(calldataload(add(base, 0xa0)), calldataload(add(base, 0xc0)))))
            // item: its offset the head's end, its bytes zero-padded to a whole word (the
            // (-length mod 32) bytes after them zero)
            bad := or(bad, xor(calldataload(add(base, 0x40)), 0x100))
            let codeLength := calldataload(add(base, 0x100))
            bad := or(bad, gt(codeLength, MAX_STRING_BYTES))
            bad := or(bad, shr(sub(256, shl(3, and(sub(0, codeLength), 31))), calldataload(add(base, add(0x120, codeLength)))))
            let end := add(0x120, and(add(codeLength, 31), not(31)))
            // document_no: its offset where the item's data ends, likewise
            bad := or(bad, xor(calldataload(add(base, 0x80)), end))
            let length := calldataload(add(base, end))
            bad := or(bad, gt(length, MAX_STRING_BYTES))
            bad := or(bad, shr(sub(256, shl(3, and(sub(0, length), 31))), calldataload(add(base, add(add(end, 0x20), length)))))
            end := add(end, add(0x20, and(add(length, 31), not(31))))
            ok := iszero(or(bad, xor(end, size)))
        }
    }

    /// @dev The payload's `index`-th 32-byte word, a static field of a payload `_canonical` passed.
    function _word(bytes memory payload, uint256 index) private pure returns (uint256 value) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            value := mload(add(payload, shl(5, add(index, 1))))
        }
    }

    /// @dev A small enumeration field, which must lie in [min, max].
    function _small(bytes32 uid, bytes memory payload, uint256 index, uint256 min, uint256 max)
        private
        pure
        returns (uint8 value, bytes memory refusal)
    {
        uint256 v = _word(payload, index);
        if (v < min || v > max) return (0, abi.encodeWithSelector(LedgerInvalidValue.selector, uid, uint8(index), v));
        value = uint8(v);
    }

    /// @dev keccak256 of the string field `index` of a payload `_canonical` passed.
    function _stringHash(bytes memory payload, uint256 index) private pure returns (bytes32 hash) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let at := add(add(payload, 0x20), mload(add(payload, shl(5, add(index, 1)))))
            hash := keccak256(add(at, 0x20), mload(at))
        }
    }

    /// @dev The length of the string field `index` of a payload `_canonical` passed: the head word
    /// is its offset, there a length word.
    function _stringLength(bytes memory payload, uint256 index) private pure returns (uint256 length) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            length := mload(add(add(payload, 0x20), mload(add(payload, shl(5, add(index, 1))))))
        }
    }

    /// @dev The free memory pointer, to hand back to `_setFreeMemory`.
    function _freeMemory() private pure returns (uint256 pointer) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            pointer := mload(0x40)
        }
    }

    /// @dev Frees everything allocated since `pointer` was read (by `_freeMemory`).
    function _setFreeMemory(uint256 pointer) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x40, pointer)
        }
    }

    /// @dev Reverts with `reason`, an ABI-encoded custom error, as if raised here (`revert`
    /// cannot take ready-made error data; this is the usual bubbling idiom).
    function _revertWith(bytes memory reason) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            revert(add(reason, 0x20), mload(reason))
        }
    }
}
