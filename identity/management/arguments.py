"""Arguments the identity commands (and the agreements' commands) share,
as argparse `type=` callables whose refusal names the option."""

import argparse

from django.core.management.base import CommandParser

from identity.models import Assurance

ASSURANCE_METAVAR = "{" + ",".join(Assurance.values) + "}"


def parse_assurance(value: str) -> str:
    """A level of assurance: low, substantial or high."""
    level = value.strip().lower()
    if level not in Assurance.values:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a level of assurance (choose from {', '.join(Assurance.values)})"
        )
    return level


def add_issuer_argument(parser: CommandParser) -> None:
    parser.add_argument("issuer", help="the authority's issuer (the JWT 'iss' of its credentials)")


def add_kid_argument(parser: CommandParser) -> None:
    # A thumbprint kid is base64url and may begin with '-', which argparse
    # would read as an option: the usual '--' separator solves it.
    parser.add_argument("kid", help="the key's kid; put '--' before the arguments when it begins with '-'")
