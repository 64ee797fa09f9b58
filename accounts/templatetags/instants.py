"""`{% load instants %}{{ value|instant }}`: an instant on a page as the admin's
lists show it (accounts.admin_display.display_instant), marked for the
reader's local time."""

from django import template

from accounts.admin_display import display_instant

register = template.Library()
register.filter("instant", display_instant)
