from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.commands import ActingCommand
from accounts.models import Proposal, ProposalStatus
from accounts.proposals import StaleProposal, approve, proposal_by_id, refuse, withdraw
from core.commands import add_reason_argument, parse_country


class Command(ActingCommand):
    help = (
        "List the proposals to widen trust (one line each: id, country, status, summary, proposer), or decide "
        "one as a country administrator named with --as: --approve ID, --refuse ID --reason TEXT, --withdraw ID."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", type=parse_country, metavar="COUNTRY", help="list this country's only")
        parser.add_argument("--status", choices=ProposalStatus.values, help="list those in this status only")
        decision = parser.add_mutually_exclusive_group()
        decision.add_argument("--approve", type=int, metavar="ID", help="apply the proposal (another administrator)")
        decision.add_argument("--refuse", type=int, metavar="ID", help="refuse it, saying why (--reason)")
        decision.add_argument("--withdraw", type=int, metavar="ID", help="take back your own proposal")
        add_reason_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stale = ""
        super().handle(*args, **options)
        if self.stale:
            # Raised after the transaction committed the proposal's "stale" status.
            raise CommandError(self.stale)

    def run(self, **options: Any) -> None:
        decisions = {name: options[name] for name in ("approve", "refuse", "withdraw") if options[name] is not None}
        if not decisions:
            self.list(country=options["country"], status=options["status"])
            return
        ((decision, proposal_id),) = decisions.items()
        if self.user is None:
            raise CommandError(f"--{decision} needs --as USER: the administrator who decides")
        proposal = proposal_by_id(proposal_id)
        if decision == "approve":
            try:
                approve(proposal=proposal, user=self.user, reason=options["reason"])
            except StaleProposal as exc:
                self.stale = "; ".join(exc.messages)
                return
        elif decision == "refuse":
            refuse(proposal=proposal, user=self.user, reason=options["reason"])
        else:
            withdraw(proposal=proposal, user=self.user, reason=options["reason"])
        proposal.refresh_from_db()
        self.confirm(f"proposal #{proposal.pk} {proposal.status}: {proposal.summary}")

    def list(self, *, country: str | None, status: str | None) -> None:
        proposals = Proposal.objects.select_related("proposed_by").order_by("pk")
        if country:
            proposals = proposals.filter(country=country)
        if status:
            proposals = proposals.filter(status=status)
        for proposal in proposals:
            self.emit(
                f"{proposal.pk}\t{proposal.country.code}\t{proposal.status}\t{proposal.summary}\t{proposal.proposed_by}"
            )
