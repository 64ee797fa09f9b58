"""`merchant-verify`: one decision on the command line.

    merchant-verify TOKEN --destination CN [--origin CL] [--registry URL] [--cache-dir DIR] [--offline]
    merchant-verify save-lists --destination CN --cache-dir DIR [--registry URL]

TOKEN `-` reads the token from standard input. The decision is printed as
JSON (the registry API's answer minus `id` and `audit`); the exit status is
0 when accepted, 1 when rejected, 2 for a usage or I/O error, which is one
line on standard error, never a traceback. `save-lists` fetches every list
a verifier of that destination may need into DIR, for `--offline` later.
"""

import argparse
import json
import os
import sys

from merchant_verifier.verifier import Verifier

DEFAULT_REGISTRY = "http://127.0.0.1:8000"
ACCEPTED, REJECTED, ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--destination", required=True, help="the country the credential is presented in (CN)")
    parser.add_argument(
        "--registry",
        default=os.environ.get("MERCHANT_REGISTRY_URL", DEFAULT_REGISTRY),
        help="the registry's URL (default $MERCHANT_REGISTRY_URL, else %(default)s)",
    )
    parser.add_argument("--cache-dir", help="keep the lists in DIR (offline mode reads them from it)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request to the registry")


def _verify_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="merchant-verify", description="Verify a merchant credential from the registry's lists.")
    parser.add_argument("token", metavar="TOKEN", help="the compact JWS, or - to read it from standard input")
    _common(parser)
    parser.add_argument("--origin", help="the country the merchant says it is from (CL)")
    parser.add_argument("--offline", action="store_true", help="use only the lists saved in --cache-dir")
    return parser


def _save_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="merchant-verify save-lists", description="Save the lists for offline verification.")
    _common(parser)
    return parser


def _read_token(argument: str) -> str:
    if argument != "-":
        return argument
    token = sys.stdin.read(1024 * 1024).strip()
    if not token:
        raise _UsageError("merchant-verify: standard input holds no token")
    return token


def _run(argv: list[str]) -> int:
    if argv[:1] == ["save-lists"]:
        args = _save_parser().parse_args(argv[1:])
        if not args.cache_dir:
            raise _UsageError("merchant-verify save-lists: --cache-dir is required")
        verifier = Verifier(args.registry, args.destination, cache_dir=args.cache_dir, timeout=args.timeout)
        verifier.prefetch()
        for name in verifier.save(args.cache_dir):
            print(os.path.join(args.cache_dir, name))
        return ACCEPTED
    args = _verify_parser().parse_args(argv)
    if args.offline and not args.cache_dir:
        raise _UsageError("merchant-verify: --offline reads the lists saved in --cache-dir; give it")
    verifier = Verifier(
        args.registry, args.destination, cache_dir=args.cache_dir, offline=args.offline, timeout=args.timeout
    )
    answer = verifier.verify(_read_token(args.token), origin=args.origin)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    return ACCEPTED if answer.accepted else REJECTED


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except _UsageError as error:
        print(str(error), file=sys.stderr)
    except ValueError as error:  # a bad country code, a bad registry URL
        print(f"merchant-verify: {error}", file=sys.stderr)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"merchant-verify: {where}{error.strerror or error}", file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - never a traceback (house rules)
        code = getattr(error, "code", None)
        detail = getattr(error, "detail", None) or str(error) or type(error).__name__
        print(f"merchant-verify: {code + ': ' if code else ''}{detail}", file=sys.stderr)
    return ERROR


if __name__ == "__main__":
    sys.exit(main())
