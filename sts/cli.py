"""``setrum token inspect``: read a token the way a meter would, for support staff.

    setrum token inspect --meter 14233784991 1234-5678-9012-3456-7890

The meter's key parameters come from the biller's meter register (``BILLER_DATABASE_URL``
or ``--database-url``) or from flags (``--sgc``, ``--ti``, ``--krn``, ``--key-type``,
``--iin``, ``--base``); the vending key from ``--key-file``, else ``SETRUM_STS_VENDING_KEY``,
else the biller's configuration (``BILLER_VENDING_KEY_FILE`` / the development key, refused
in production). ``--decoder-key`` skips derivation altogether. The key is never printed.

Exit status: 0 the token is valid for the meter, 1 a meter would reject it, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from .keychange import read_section
from .keys import DEFAULT_IIN, MeterKeyParams, derive_decoder_key, parse_vending_key
from .meter import DEFAULT_TID_MEMORY
from .tid import BASE_DATES, base_date_for_year, base_rollover
from .tokens import CRCError, DecodedToken, TokenClass, TokenFormatError, format_token, parse_token

if TYPE_CHECKING:  # the biller's register is read lazily, only when a command needs it
    from biller.lookup import RegisterEntry, TokenHistory

__all__ = ["inspect_command", "main"]

_CLASS_NAMES = {0: "credit", 1: "non-meter-specific (test/display)", 2: "meter-specific management", 3: "reserved"}


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="setrum token inspect",
        description="Decode an STS token for a meter and say whether (and why) a meter would reject it.",
    )
    parser.add_argument("token", help="the 20-digit token (dashes and spaces allowed)")
    parser.add_argument("--meter", required=True, help="the 11-digit meter number")
    parser.add_argument("--key-file", help="file holding the 16-hex-digit vending key")
    parser.add_argument("--decoder-key", help="the meter's decoder key (16 hex digits) instead of deriving it")
    parser.add_argument("--database-url", help="the biller database (default: BILLER_DATABASE_URL / biller default)")
    parser.add_argument("--no-register", action="store_true", help="do not read the biller's meter register")
    parser.add_argument("--iin", help=f"issuer identification number (default {DEFAULT_IIN})")
    parser.add_argument("--sgc", help="supply group code (6 digits)")
    parser.add_argument("--ti", help="tariff index (2 digits)")
    parser.add_argument("--krn", type=int, help="key revision number")
    parser.add_argument("--key-type", type=int, help="key type (0-15)")
    parser.add_argument("--base", type=int, choices=tuple(BASE_DATES), help="the meter's TID base date")
    return parser


def _vending_key(args: argparse.Namespace) -> bytes:
    try:
        if args.key_file:
            with open(args.key_file, encoding="ascii") as handle:
                return parse_vending_key(handle.read())
        if os.environ.get("SETRUM_STS_VENDING_KEY"):
            return parse_vending_key(os.environ["SETRUM_STS_VENDING_KEY"])
    except OSError as exc:
        raise _UsageError(f"cannot read the key file: {exc.strerror}") from None
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    from biller.settings import BillerSettings  # the biller's configuration, lazily

    try:
        return BillerSettings().vending_key_bytes()
    except ValueError as exc:
        raise _UsageError(f"no usable vending key: {exc}") from None


def _register(
    args: argparse.Namespace, token: str | None = None, tid: int | None = None
) -> tuple[RegisterEntry | None, TokenHistory | None]:
    from biller.lookup import lookup_meter_sync

    url = args.database_url
    if url is None:
        from biller.settings import BillerSettings

        url = BillerSettings().database_url
    try:
        return lookup_meter_sync(url, args.meter, token, tid)
    except FileNotFoundError as exc:
        raise _UsageError(f"{exc}; pass --database-url, or --no-register with --sgc/--ti/--krn") from None
    except Exception as exc:  # no tables, unreachable server...
        raise _UsageError(f"cannot read the biller's meter register ({type(exc).__name__}); "
                          "pass --no-register with --sgc/--ti/--krn flags") from None  # fmt: skip


def _flag_params(args: argparse.Namespace, fallback: MeterKeyParams | None) -> MeterKeyParams:
    fb = fallback or MeterKeyParams(args.meter)
    return MeterKeyParams(
        meter_number=args.meter,
        iin=args.iin or fb.iin,
        key_type=fb.key_type if args.key_type is None else args.key_type,
        supply_group_code=args.sgc or fb.supply_group_code,
        tariff_index=args.ti or fb.tariff_index,
        key_revision=fb.key_revision if args.krn is None else args.krn,
    )


def inspect_command(argv: list[str], *, out: TextIO | None = None) -> int:
    """Run ``token inspect`` with ``argv`` (without the command words); returns the exit status."""
    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed the problem
        return int(exc.code or 0) and 2

    def say(label: str, text: str) -> None:
        print(f"{label:<9} {text}", file=out)

    try:
        return _inspect(args, say)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _inspect(args: argparse.Namespace, say: Callable[[str, str], None]) -> int:
    if len(args.meter) != 11 or not args.meter.isdigit():
        raise _UsageError("the meter number has 11 digits")
    try:
        token = format_token(args.token)
    except TokenFormatError as exc:
        say("token", args.token)
        say("verdict", f"FORMAT ERROR: {exc}")
        return 1

    entry = _register_entry(args)
    try:
        params = _flag_params(args, entry.params if entry else None)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    base_year = args.base or (entry.base_date if entry else 2014)
    base = base_date_for_year(base_year)

    say("token", token)
    where = "register" if entry else "flags"
    key = (
        f"IIN {params.iin}, SGC {params.supply_group_code}, TI {params.tariff_index}, "
        f"KRN {params.key_revision}, KT {params.key_type}, base {base_year}"
    )
    say("meter", f"{args.meter}  (key from {where}: {key})")
    if entry is not None:
        say("status", f"{entry.status} in the register; last TID issued {entry.last_tid}")

    try:
        decoded = parse_token(token, _decoder_key(args, params), base)
    except CRCError:
        say("verdict", "CRC_ERROR: the meter rejects it. Either a digit was mistyped, or the token was made "
                       "for another meter, key revision or supply group (check the meter number).")  # fmt: skip
        return 1

    say("class", f"{decoded.token_class} ({_CLASS_NAMES[decoded.token_class]}), subclass {decoded.subclass}"
                 f" -> {decoded.kind}")  # fmt: skip
    if decoded.is_key_change:
        return _key_change_verdict(decoded, say)
    _say_contents(decoded, base, say)

    reasons: list[str] = []
    if datetime.now(UTC) >= base_rollover(base):
        reasons.append(f"base date {base_year} ran out of TIDs on {base_rollover(base):%Y-%m-%d %H:%M} UTC: "
                       "the meter needs a key change before it can take new tokens")  # fmt: skip
    if entry is not None:
        reasons += _register_doubts(args, token, decoded, entry, say)
    if reasons:
        say("verdict", "VALID token, but: " + "; ".join(reasons))
    else:
        say("verdict", "VALID for this meter: accepted unless already entered (USED) or pushed out by "
                       f"{DEFAULT_TID_MEMORY} newer tokens (OLD)")  # fmt: skip
    return 0


def _register_entry(args: argparse.Namespace) -> RegisterEntry | None:
    """The meter's register entry, unless the key comes from flags or --decoder-key."""
    if args.no_register or args.decoder_key is not None:
        return None
    entry, _ = _register(args)
    if entry is None and not (args.sgc and args.ti):
        raise _UsageError(f"meter {args.meter} is not in the biller's register; pass --no-register and key flags")
    return entry


def _decoder_key(args: argparse.Namespace, params: MeterKeyParams) -> int:
    if not args.decoder_key:
        return derive_decoder_key(_vending_key(args), params)
    try:
        return int.from_bytes(parse_vending_key(args.decoder_key), "big")
    except ValueError:
        raise _UsageError("the decoder key is 16 hexadecimal digits") from None


def _say_contents(decoded: DecodedToken, base: datetime, say: Callable[[str, str], None]) -> None:
    say("TID", f"{decoded.tid} = {decoded.issued_at:%Y-%m-%d %H:%M} UTC (minutes since {base:%Y-%m-%d})")
    if decoded.kwh is not None:
        say("amount", f"{decoded.kwh} kWh")
    elif decoded.max_power_watts is not None:
        say("value", f"maximum power {decoded.max_power_watts} W")
    elif decoded.token_class == TokenClass.MANAGEMENT:
        say("value", f"0x{decoded.value:04X}")


def _register_doubts(
    args: argparse.Namespace, token: str, decoded: DecodedToken, entry: RegisterEntry, say: Callable[[str, str], None]
) -> list[str]:
    """What the biller's register says against an otherwise valid token (says what it found on the way)."""
    reasons: list[str] = []
    if entry.status != "ACTIVE":
        reasons.append(f"the meter is {entry.status} in the register")
    if entry.last_tid is None or decoded.tid > entry.last_tid:
        reasons.append(
            "its TID is newer than anything the biller issued for this meter: it was not made by this biller"
        )
    _, history = _register(args, token, decoded.tid)
    if history is not None:
        if history.reference:
            say("purchase", f"reference {history.reference} ({history.purchase_status})")
        if history.newer_tokens >= DEFAULT_TID_MEMORY:
            reasons.append(f"{history.newer_tokens} newer tokens were issued for this meter: if they were "
                           f"entered, the meter answers OLD (it remembers {DEFAULT_TID_MEMORY})")  # fmt: skip
        elif history.newer_tokens:
            say("newer", f"{history.newer_tokens} newer token(s) issued for this meter")
    return reasons


def _key_change_verdict(decoded: DecodedToken, say: Callable[[str, str], None]) -> int:
    section = read_section(decoded.subclass, decoded.body)
    if section.tariff_index is None:
        rollover = "yes" if section.rollover else "no"
        say("key", f"1st half of a new decoder key: KRN {section.key_revision}, KT {section.key_type}, "
                   f"rollover {rollover}")  # fmt: skip
    else:
        say("key", f"2nd half of a new decoder key: TI {section.tariff_index}")
    say("verdict", "VALID key change token for this meter's current key: enter the 1st section, then the 2nd, "
                   "then the credit token")  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return inspect_command(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
