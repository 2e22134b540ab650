"""`runform users add|list|remove|reset-password|audit`: the clinic app's accounts and its audit log.

Passwords are never taken from the command line (it is visible to every process on the machine and kept in shell
history): they are asked for twice with getpass, or read from standard input with --password-stdin (one line; for
scripts and tests). Thin over analyzer.records.accounts."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.records.accounts import (ROLES, add_user, audit, check_username, list_users, local_actor, remove_user,
                                       reset_password, write_audit_csv)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="accounts of the clinic app (add, list, remove, reset-password) and its audit log",
                       description="Accounts that sign in to the clinic app, stored in "
                                   "RUNFORM_DATA_DIR/runform.sqlite3. Roles: clinician (everything but deleting "
                                   "patients and managing accounts), admin.")
    act = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = act.add_parser("add", help="create an account")
    a.add_argument("username", metavar="NAME")
    a.add_argument("--role", choices=ROLES, default="clinician", help="default clinician")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a = act.add_parser("list", help="all accounts")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a = act.add_parser("remove", help="delete an account (its audit entries stay)")
    a.add_argument("username", metavar="NAME")
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    a = act.add_parser("reset-password", help="set a new password for an account")
    a.add_argument("username", metavar="NAME")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a = act.add_parser("audit", help="write the audit log (sign-ins, opened, exported, deleted patients) as CSV")
    a.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.set_defaults(func=run)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        pw = line[:-1] if line.endswith("\n") else line
        if pw.endswith("\r"):
            pw = pw[:-1]
        if not pw:
            raise InputError("no password on standard input.", "Pipe the password in, one line.")
        return pw
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password.", "Use --password-stdin to read it from a pipe.")
    pw = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != pw:
        raise InputError("the two passwords differ.", "Run the command again.")
    return pw


def run(args: argparse.Namespace) -> int:
    me = local_actor()
    if args.action == "add":
        check_username(args.username)
        u = add_user(args.username, read_password(args.password_stdin), args.role, actor=me)
        print(f"user {u.username} added ({u.role})")
        return 0
    if args.action == "list":
        rows = list_users()
        if args.format == "json":
            print(json.dumps(rows, indent=2))
        elif not rows:
            print("No accounts yet. Add the first with `runform users add NAME --role admin`.")
        else:
            print(f"{'Name':<24} {'Role':<10} {'Created (UTC)':<26} Last sign-in (UTC)")
            for r in rows:
                print(f"{r['username']:<24} {r['role']:<10} {r['created_utc']:<26} {r['last_sign_in_utc'] or '-'}")
        return 0
    if args.action == "remove":
        if not args.yes and sys.stdin.isatty():
            if input(f"Remove account {args.username}? [y/N] ").strip().lower() not in ("y", "yes"):
                print("not removed")
                return 1
        remove_user(args.username, actor=me)
        print(f"user {args.username} removed")
        return 0
    if args.action == "reset-password":
        reset_password(args.username, read_password(args.password_stdin), actor=me)
        print(f"password of {args.username} changed")
        return 0
    if args.action == "audit":
        if args.out.is_dir():
            raise InputError(f"{args.out} is a folder.", "Give a file name, e.g. --out audit.csv.")
        n = write_audit_csv(args.out)
        audit(me.username, "audit_exported", detail=f"{n} entries")
        print(f"wrote {args.out} ({n} entries)")
        return 0
    raise InputError(f"unknown action {args.action!r}.", "Use add, list, remove, reset-password or audit.")
