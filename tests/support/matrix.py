"""The recognition matrix page for staff (/recognition/matrix/): a client
logged in as a user, and the cell states the page shows."""

import re

from django.test import Client

PAGE = "/recognition/matrix/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_states(html: str) -> dict[tuple[str, str], str]:
    cells = re.findall(r'data-destination="(\w+)" data-origin="(\w+)" data-state="(\w+)"', html)
    return {(d, o): state for d, o, state in cells}
