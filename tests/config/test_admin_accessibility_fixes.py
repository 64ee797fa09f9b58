"""The admin's pages carry the registry's accessibility fixes (static/registry/
and templates/admin/). axe-core checks the pages in a browser
(tests/e2e/test_accessibility.py); these tests say the same without one:
every admin page loads the fixes, the files are found, and the date and time
inputs of a split date-time field are labelled."""

import re

from django.contrib.staticfiles import finders
from django.test import Client

from identity.models import AuthorityKey
from recognition.models import RecognitionAgreement
from tests.support.admin import add_url, change_url, changelist_url, client_for

STYLESHEET = '<link rel="stylesheet" href="/static/registry/console.css">'
SCRIPT = '<script src="/static/registry/console.js" defer></script>'


def test_every_admin_page_loads_the_accessibility_fixes(world):
    alice = client_for(world.alice)
    pages = [
        Client().get("/admin/login/"),
        alice.get("/admin/"),
        alice.get(changelist_url(AuthorityKey)),
        alice.get(change_url(world.cn_recognizes_cl)),
        alice.get(add_url(RecognitionAgreement)),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200 and STYLESHEET in html and SCRIPT in html, response.request["PATH_INFO"]


def test_the_fixes_are_static_files_of_the_project():
    assert finders.find("registry/console.css") and finders.find("registry/console.js")


def test_the_date_and_time_inputs_of_an_agreement_are_labelled(world):
    html = client_for(world.alice).get(add_url(RecognitionAgreement)).content.decode()
    for field in ("valid_from", "valid_until"):
        assert re.search(rf'<label for="id_{field}_0">Date:</label> <input [^>]*id="id_{field}_0"', html), field
        assert re.search(rf'<label for="id_{field}_1">Time:</label> <input [^>]*id="id_{field}_1"', html), field
