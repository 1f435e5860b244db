"""The ``projchain`` command: run a node, manage tokens and members, verify bundles and certificates."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from node_api import collector
from node_api.config import Settings


def _run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.port:
        overrides["port"] = args.port
    if args.host:
        overrides["host"] = args.host
    settings = Settings(**overrides)
    seed = _seed_loader("demo") if args.demo else None
    if settings.workers > 1:
        _shared_metrics_dir(settings)
    import httpx

    from node_api import logs
    from node_api.main import create_app
    from node_api.node import open_node
    from node_api.workers import WorkerPool

    logs.configure(settings)  # JSON lines to stderr and data_dir/node.log

    async def main() -> None:
        node = await open_node(settings)
        await node.start()
        collector.settle()
        # With workers and PROJCHAIN_PRIMARY_SERVES=false, the gateway is theirs alone: the primary
        # keeps its CPU for what only it does (submitter, indexer, confirmations, read models) and
        # serves on a private loopback port, not the node's address (see node_api/workers.py).
        public = settings.workers == 1 or settings.primary_serves
        server, serving = await _serve(create_app(settings, node=node), settings, public=public)
        pool = WorkerPool(settings, settings.workers - 1 if public else settings.workers)
        if settings.workers > 1:
            try:
                await pool.start()
            except BaseException:
                await pool.stop()
                server.should_exit = True
                await node.stop()
                raise
        base = f"http://{settings.host}:{settings.port}"
        if seed is not None:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                creds = await seed(node, client, settings.data_dir / "demo" / "credentials.json")
            _print_banner(settings, base, creds)
        else:
            print(f"projchain node on {base} (chain {node.chain.url if node.chain else settings.rpc_url})")
        try:
            await serving
        finally:
            await pool.stop()
            await node.stop()

    _loop_run(main)
    return 0


SEEDS = "projchain.seeds"


def _seed_loader(name: str) -> Any:
    """The seed loader installed under ``name`` (entry point group ``projchain.seeds``).

    Demo data is no part of the node: the ``demo`` package registers its loader,
    ``load_demo(node, client, credentials_path) -> credentials``, in pyproject.toml.
    """
    from importlib.metadata import entry_points

    found = entry_points(group=SEEDS, name=name)
    if not found:
        raise SystemExit(
            f"projchain: no seed loader {name!r} is installed (entry point group {SEEDS!r}); "
            "install the project with its data: `make install` (pip install -e .)"
        )
    (entry,) = found
    try:
        return entry.load()
    except ImportError as e:
        raise SystemExit(
            f"projchain: the seed loader {name!r} ({entry.value}) cannot be imported: {e}; "
            "reinstall the project: `make install` (pip install -e .)"
        ) from e


def _shared_metrics_dir(settings: Settings) -> None:
    """An empty directory for the processes' shared request metrics (before prometheus_client loads)."""
    import os
    import shutil

    path = settings.data_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)  # counters of an earlier run; Prometheus handles resets
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


async def _serve(app: Any, settings: Settings, public: bool = True) -> tuple[Any, asyncio.Task[None]]:
    """Starts uvicorn on the node's address (shared with the other workers when there are some), or,
    not ``public``, on a free loopback port of its own."""
    import uvicorn

    from node_api.workers import listening_socket

    host, port = (settings.host, settings.port) if public else ("127.0.0.1", 0)
    # Forwarded headers (X-Forwarded-For, -Proto) are believed from PROJCHAIN_TRUSTED_PROXIES alone, the
    # same proxies the auth guard believes (ledger/auth.py); uvicorn's default trusts 127.0.0.1, which
    # let a client behind a local forwarder name any address and dodge the lockout.
    trusted = settings.trusted_proxies
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", log_config=None,
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    sockets = [listening_socket(settings.host, settings.port)] if public and settings.workers > 1 else None
    serving = asyncio.create_task(server.serve(sockets=sockets))
    while not server.started:
        if serving.done():
            serving.result()  # raises why uvicorn could not start
            raise RuntimeError("the HTTP server stopped during start")
        await asyncio.sleep(0.05)
    return server, serving


def _loop_run(main: Any) -> None:
    try:
        import uvloop  # installed with uvicorn[standard]; the node's own loop should be the fast one too

        uvloop.run(main())
    except KeyboardInterrupt:
        pass


def _worker(args: argparse.Namespace) -> int:
    """A gateway worker process (``projchain run`` starts PROJCHAIN_WORKERS of them when it is > 1)."""
    import os

    from node_api import logs
    from node_api.main import create_app
    from node_api.node import open_node
    from node_api.processes import die_with_parent
    from node_api.workers import READY

    parent = int(os.environ.get("PROJCHAIN_WORKER_PARENT", "0"))
    if parent:
        die_with_parent(parent)
    settings = Settings()
    logs.configure(settings)

    async def main() -> None:
        node = await open_node(settings, role="worker")
        await node.start()
        collector.settle()
        _, serving = await _serve(create_app(settings, node=node), settings)
        sys.stdout.buffer.write(READY + b"\n")
        sys.stdout.flush()
        try:
            await serving
        finally:
            await node.stop()

    _loop_run(main)
    return 0


def _print_banner(settings: Settings, base: str, creds: list[dict[str, Any]]) -> None:
    print("\n=== projchain node is running (Ctrl-C stops node and chain) ===")
    print(f"API          {base}   OpenAPI {base}/docs")
    print(f"health       {base}/health")
    print(f"QR page      {base}/verify/2026-620825-44-01-000317")
    print(f"console      {base}/console   (officers below: username / password)")
    print(f"credentials  {settings.data_dir / 'demo' / 'credentials.json'}")
    for c in creds:
        print(f"  org {c['org']:>2}  {c['token']}  {c['name']} ({', '.join(c['roles'])})")
        if c.get("officer"):
            print(f"          console officer {c['officer']['username']} / {c['officer']['password']}")
    print()
    sys.stdout.flush()


def _token(args: argparse.Namespace) -> int:
    from node_api.ledger.auth import create_token, revoke_token
    from node_api.store.auth import list_tokens
    from node_api.store.database import Database

    settings = Settings()
    db = Database(settings.database_path)
    if args.token_cmd == "create":
        token = create_token(db, args.org, args.name)
        print(token)
    elif args.token_cmd == "revoke":
        print("revoked" if revoke_token(db, args.id) else "no such active token")
    else:
        for r in list_tokens(db):
            print(dict(r))
    return 0


def _officers(settings: Settings) -> Any:
    """The officer accounts of this node's database (membership read from its index; no chain needed)."""
    from node_api.ledger.auth import AuthGuard
    from node_api.ledger.membership import Membership
    from node_api.ledger.officers import TOTP_PURPOSE, Officers
    from node_api.store import keys
    from node_api.store.database import Database
    from node_api.store.index import IndexTable
    from node_api.store.officers import OfficerTable
    from node_api.store.subscriptions import SecretVault

    db = Database(settings.database_path)
    vault = SecretVault(keys.document_key(settings.documents_dir, settings.password, db), TOTP_PURPOSE)
    return Officers(
        OfficerTable(db), Membership(IndexTable(db)), AuthGuard(db, settings.auth_failures_per_minute),
        settings.console_idle_seconds, settings.console_session_seconds,
        settings.console_lockout_failures, settings.console_lockout_seconds, vault,
    )  # fmt: skip


def _officer(args: argparse.Namespace) -> int:
    """``projchain officer add|list|unlock|disable``: console officer accounts (docs/console.md)."""
    import getpass
    import secrets as _secrets

    from node_api.errors import ProjchainError

    officers = _officers(Settings())
    try:
        if args.officer_cmd == "add":
            if args.generate_password:
                password = _secrets.token_urlsafe(12)
            elif not sys.stdin.isatty():
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass("password (10+ characters): ")
            roles = [r.strip() for r in args.roles.split(",")] if args.roles else None
            officer_id, totp = officers.add(args.org, args.username, args.name, password, roles, args.totp)
            print(f"officer {officer_id} {args.username} of organisation {args.org}")
            if args.generate_password:
                print(f"password: {password}")
            if totp:
                print(f"TOTP secret (enter it in the officer's authenticator app): {totp}")
        elif args.officer_cmd == "list":
            for r in officers.table.all():
                state = "disabled" if r["disabled_at"] else "active"
                print(f"{r['id']:>4}  org {r['org_id']:>3}  {r['username']:<24} {r['display_name']}  {state}"
                      f"{'  totp' if r['has_totp'] else ''}")  # fmt: skip
        else:
            row = officers.table.by_username(args.username)
            if row is None:
                print(f"no officer {args.username}")
                return 1
            if args.officer_cmd == "unlock":
                officers.table.unlock(int(row["id"]))
            else:
                officers.table.disable(int(row["id"]))
            print(f"{args.officer_cmd}ed {args.username}".replace("disableed", "disabled"))
    except ProjchainError as e:
        print(f"projchain officer: {e.detail}", file=sys.stderr)
        return 2
    return 0


def _metrics_token(args: argparse.Namespace) -> int:
    from node_api.ledger.auth import create_operator_token

    token, digest = create_operator_token()
    print("operator token for GET /metrics (shown once; give it to Prometheus as its bearer token):")
    print(token)
    print("the node keeps only its hash: set in the node's environment")
    print(f"PROJCHAIN_METRICS_TOKEN_SHA256={digest}")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from node_api.chain.compiler import load_artifacts
    from node_api.chain.consortium import deploy
    from node_api.chain.keystore import KeyStore
    from node_api.chain.rpc import RpcClient
    from node_api.node import ADMIN_KEYS, DEPLOYER_KEY

    settings = Settings()
    if settings.rpc_url is None:
        print("set PROJCHAIN_RPC_URL to the network to deploy on", file=sys.stderr)
        return 2
    keys = KeyStore(settings.keystore_dir, settings.password)
    admins = list(args.admin) or [keys.get_or_create(k).address for k in ADMIN_KEYS]

    async def go() -> None:
        rpc = RpcClient(settings.rpc_url or "")
        try:
            d = await deploy(rpc, load_artifacts(settings.evm_version), keys.get_or_create(DEPLOYER_KEY), admins,
                             args.threshold)  # fmt: skip
        finally:
            await rpc.close()
        for path in {settings.deployment_path, *([Path(args.out)] if args.out else [])}:
            d.save(path)
            print(f"deployment written to {path}")
        print(json.dumps(d.__dict__, indent=2))

    asyncio.run(go())
    return 0


def _uscc_arg(value: str) -> str:
    """``--uscc`` of ``org admit``: a valid USCC (GB 32100), upper-cased, or argparse's error saying why not."""
    from node_api.domain.uscc import validate_uscc
    from node_api.errors import ValidationError

    try:
        return validate_uscc(value, "uscc")
    except ValidationError as e:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a valid USCC: {e.detail.removeprefix('uscc: ')}"
        ) from None


def _org_admit(args: argparse.Namespace) -> int:
    from node_api.chain.compiler import load_artifacts
    from node_api.chain.consortium import ConsortiumAdmin
    from node_api.chain.contracts import Contracts, Deployment
    from node_api.chain.keystore import KeyStore
    from node_api.chain.rpc import RpcClient
    from node_api.ledger.writer import seal_key_name
    from node_api.node import ADMIN_KEYS

    settings = Settings()
    keys = KeyStore(settings.keystore_dir, settings.password)
    deployment = Deployment.load(settings.deployment_path)
    url = settings.rpc_url or f"http://127.0.0.1:{settings.anvil_port}"
    admins = [keys.load(k) for k in ADMIN_KEYS if keys.exists(k)][: args.confirmations]

    async def go() -> int:
        rpc = RpcClient(url)
        try:
            admin = ConsortiumAdmin(
                rpc, Contracts(load_artifacts(settings.evm_version), deployment), deployment.chain_id
            )
            seal = args.seal_key or keys.get_or_create("seal-pending").address
            org = await admin.admit(admins, args.name, args.uscc, args.roles.split(","), seal, args.relayer)
        finally:
            await rpc.close()
        if not args.seal_key:
            (settings.keystore_dir / "seal-pending.json").rename(
                settings.keystore_dir / f"{seal_key_name(org)}.json"
            )
        print(f"admitted organisation {org}: {args.name}")
        return 0

    return asyncio.run(go())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``projchain`` command."""
    parser = argparse.ArgumentParser(prog="projchain", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="start the node (embedded chain unless PROJCHAIN_RPC_URL is set)")
    run.add_argument(
        "--demo", action="store_true", help="load 庄浪县 demo organisations, tokens and projects"
    )
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    sub.add_parser(
        "worker", help="(internal) a gateway worker process, started by `run` when PROJCHAIN_WORKERS > 1"
    )
    tok = sub.add_parser("token", help="API tokens (stored hashed; shown once)")
    tsub = tok.add_subparsers(dest="token_cmd", required=True)
    tc = tsub.add_parser("create")
    tc.add_argument("--org", type=int, required=True, help="on-chain organisation id")
    tc.add_argument("--name", required=True)
    tr = tsub.add_parser("revoke")
    tr.add_argument("--id", type=int, required=True)
    tsub.add_parser("list")
    off = sub.add_parser(
        "officer", help="console officers: people who sign in as themselves (docs/console.md)"
    )
    ofsub = off.add_subparsers(dest="officer_cmd", required=True)
    ofa = ofsub.add_parser("add", help="the password is read from stdin, asked for, or generated")
    ofa.add_argument("--org", type=int, required=True, help="on-chain organisation id")
    ofa.add_argument("--username", required=True)
    ofa.add_argument("--name", required=True, help="the officer's name as pages show it")
    ofa.add_argument("--roles", help="comma-separated subset of the organisation's roles (default: all)")
    ofa.add_argument("--totp", action="store_true", help="enrol a TOTP authenticator (prints its secret)")
    ofa.add_argument("--generate-password", action="store_true", help="make a random password and print it")
    ofsub.add_parser("list")
    for name in ("unlock", "disable"):
        ofsub.add_parser(name).add_argument("--username", required=True)
    sub.add_parser(
        "metrics-token",
        help="make the operator's credential for GET /metrics (prints the token and its hash)",
    )
    dp = sub.add_parser("deploy", help="deploy the contracts on PROJCHAIN_RPC_URL (once per network)")
    dp.add_argument("--admin", action="append", default=[], help="consortium admin address (repeat)")
    dp.add_argument("--threshold", type=int, default=2)
    dp.add_argument("--out", help="also write the deployment file here (chain_config/deployments/…)")
    org = sub.add_parser("org", help="consortium membership (with admin keys held by this node)")
    osub = org.add_subparsers(dest="org_cmd", required=True)
    oa = osub.add_parser("admit")
    oa.add_argument("--name", required=True)
    oa.add_argument(
        "--uscc",
        required=True,
        type=_uscc_arg,
        help="the organisation's USCC (checked before anything is sent)",
    )
    oa.add_argument(
        "--roles",
        required=True,
        help="comma-separated: approval_authority, supervisor, financial_institution, auditor, catalogue",
    )
    oa.add_argument("--seal-key", help="address of a seal key held elsewhere (default: create one here)")
    oa.add_argument("--relayer", default="0x" + "00" * 20, help="the organisation's own node relayer, if any")
    oa.add_argument("--confirmations", type=int, default=2)
    vb = sub.add_parser(
        "verify-bundle",
        help="check an evidence bundle against the chain alone and the consortium's pinned deployment",
        description="Exit status: 0 VERIFIED, 1 FAILED, 2 unusable input or chain unreachable, "
        "3 STALE (the chain holds records of the project after the bundle's as_of_block), "
        "4 UNPINNED (neither --deployment nor --ledger: the bundle's own contracts are not trusted).",
    )
    vb.add_argument("file")
    vb.add_argument("--rpc", required=True)
    vb.add_argument("--documents", help="folder of documents to check against their digests")
    vb.add_argument(
        "--deployment",
        help="the consortium's deployment file (a node writes it to <data dir>/deployment.json): "
        "pins chain, genesis block, Consortium and ProjectLedger",
    )
    vb.add_argument("--ledger", help="pin the consortium's ProjectLedger address (instead of --deployment)")
    vb.add_argument(
        "--consortium", help="with --ledger: also pin the Consortium address the ledger must trust"
    )
    vc = sub.add_parser(
        "verify-certificate",
        help="check a verification certificate (its JSON, or the PDF carrying it) against the chain alone",
        description="Exit status: 0 VALID (and current), 1 INVALID (forged, altered, or not what the chain holds), "
        "2 unreadable file or pin, or chain unreachable, 3 STALE (valid as of its block, but the chain holds "
        "records of the project after it: no longer current), 4 UNPINNED (neither --deployment nor --ledger).",
    )
    vc.add_argument("file", help="the certificate: its JSON, or its PDF (which carries certificate.json)")
    vc.add_argument("--rpc", required=True)
    vc.add_argument(
        "--deployment", help="the consortium's deployment file (pins chain, Consortium, ProjectLedger)"
    )
    vc.add_argument("--ledger", help="pin the consortium's ProjectLedger address (instead of --deployment)")
    vc.add_argument("--consortium", help="with --ledger: also pin the Consortium address")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if args.cmd == "run":
        return _run(args)
    if args.cmd == "worker":
        return _worker(args)
    if args.cmd == "token":
        return _token(args)
    if args.cmd == "metrics-token":
        return _metrics_token(args)
    if args.cmd == "officer":
        return _officer(args)
    if args.cmd == "deploy":
        return _deploy(args)
    if args.cmd == "org":
        return _org_admit(args)
    if args.cmd == "verify-bundle":
        from node_api.verify.bundle_check import verify_bundle_cli

        return verify_bundle_cli(
            args.file, args.rpc, args.documents, args.deployment, args.ledger, args.consortium
        )
    if args.cmd == "verify-certificate":
        from node_api.verify.certificate_check import verify_certificate_cli

        return verify_certificate_cli(args.file, args.rpc, args.deployment, args.ledger, args.consortium)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
