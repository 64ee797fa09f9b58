"""The console's pages pass axe-core's WCAG 2.0/2.1 A and AA checks in Chromium.

Each role of the shared actors (the superuser root, China's administrator
alice, Chile's administrator bob, the regulator rita) logs in through the
form and opens the pages it works with: the admin index, the list of each
registry model, one change page of each (a row in the role's scope), the
history page of an agreement and the recognition matrix; the login page is
checked before anyone logs in. No page may have a serious or critical
violation (tests/e2e/axe.py); the screenshots and the full axe results are
under artifacts/e2e/<test>/.
China's administrator also checks the forms she adds keys and agreements
with. The check itself is tested in test_axe.py.
"""

from dataclasses import dataclass

import pytest
from django.db.models import Model

from identity.models import Authority, AuthorityKey, CredentialType, IssuedCredential, Merchant
from recognition.models import RecognitionAgreement, Verification
from recognition.services.verification import VerificationRequest, verify_credentials
from tests.e2e.axe import axe_source
from tests.e2e.browser import WIDE, chromium, log_in, new_page
from tests.support.actors import World, build_world
from tests.support.admin import add_url, change_url, changelist_url, history_url
from tests.support.tokens import claims_for, sign

pytestmark = pytest.mark.slow


@dataclass
class Scope:
    """What a role opens: one row of each model it can see (None: it sees none)."""

    username: str
    rows: dict[type[Model], Model | None]


def decisions(world: World) -> dict[str, Verification]:
    """One decision taken for each of China and Chile (an acceptance, a rejection)."""
    outcomes = verify_credentials(
        [
            VerificationRequest(token=sign(world.cl, claims_for(world.cl)), destination="CN", origin="CL"),
            VerificationRequest(token=sign(world.cn), destination="CL"),
        ],
        client="shop-platform",
    )
    cn, cl = (outcome.record.row for outcome in outcomes)
    return {"CN": cn, "CL": cl}


def scopes(world: World, verifications: dict[str, Verification]) -> dict[str, Scope]:
    def rows(actor, agreement, verification) -> dict[type[Model], Model | None]:
        return {
            Authority: actor.authority,
            AuthorityKey: actor.key,
            Merchant: actor.merchant,
            RecognitionAgreement: agreement,
            Verification: verification,
            CredentialType: world.merchant_identity,
            IssuedCredential: None,  # the actors have issued none: its list only
        }

    agreement = world.cn_recognizes_cl
    return {
        "superuser": Scope("root", rows(world.cn, agreement, verifications["CN"])),
        "cn-admin": Scope("alice", rows(world.cn, agreement, verifications["CN"])),
        # Chile is the destination of no agreement: bob's agreement list is empty.
        "cl-admin": Scope("bob", rows(world.cl, None, verifications["CL"])),
        "regulator": Scope("rita", rows(world.kz, agreement, verifications["CL"])),
    }


def pages(scope: Scope) -> list[tuple[str, str]]:
    """(step, url) of every page the role checks, in order."""
    visits = [("admin-index", "/admin/")]
    for model, row in scope.rows.items():
        name = model._meta.model_name
        visits.append((f"{name}-list", changelist_url(model)))
        if row is not None:
            visits.append((f"{name}-change", change_url(row)))
    if scope.username == "alice":
        visits += [
            ("authoritykey-add", add_url(AuthorityKey)),
            ("recognitionagreement-add", add_url(RecognitionAgreement)),
        ]
    agreement = scope.rows[RecognitionAgreement]
    if agreement is not None:
        visits.append(("agreement-history", history_url(agreement)))
    visits.append(("recognition-matrix", "/recognition/matrix/"))
    return visits


@pytest.mark.parametrize("role", ["superuser", "cn-admin", "cl-admin", "regulator"])
def test_every_page_of_a_role_passes_axe(live_site, screenshots, role):
    axe_source()  # without axe-core: skipped or failed saying so, before any page
    world = build_world()
    scope = scopes(world, decisions(world))[role]
    visits = pages(scope)
    with chromium() as browser:
        if role == "superuser":
            screenshots.visit(new_page(browser, live_site, width=WIDE), "/admin/login/", "login")
        page = log_in(browser, live_site, scope.username, width=WIDE)
        for step, url in visits:
            response = screenshots.visit(page, url, step)
            assert response.status == 200 and page.url == f"{live_site}{url}", (step, response.status, page.url)
    assert len(list(screenshots.directory.glob("*.axe.json"))) == len(visits) + (role == "superuser")
