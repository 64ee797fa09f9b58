"""The registry's own signing keys (public halves only) and the state of each
country's trust list (DESIGN §7 trust lists, §10)."""

from django.db import models


class RegistryKey(models.Model):
    """A public key the registry signs trust lists with. The private half
    lives only in the file named by REGISTRY_SIGNING_KEY."""

    kid = models.CharField(max_length=100, unique=True)
    alg = models.CharField(max_length=8)
    public_jwk = models.JSONField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(
        null=True, blank=True, help_text="A retired key stays published until every list it signed has expired."
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.kid


class TrustListState(models.Model):
    """The sequence of a country's trust list grows only when its content
    changes: the hash of the last content is kept to tell. The list last
    signed is kept beside it, so that every worker serves the same bytes
    (one ETag) until the content changes, half the list's lifetime passes or
    the registry's key changes (recognition/services/trust_lists.py)."""

    country = models.CharField(max_length=2, unique=True)
    sequence = models.PositiveBigIntegerField()
    content_sha256 = models.CharField(max_length=64)
    changed_at = models.DateTimeField()
    jws = models.TextField(blank=True, default="", help_text="The compact JWS last signed; empty before the first.")
    signed_at = models.DateTimeField(null=True, blank=True, help_text="The `iat` of `jws`.")
    kid = models.CharField(max_length=100, blank=True, default="", help_text="The registry key that signed `jws`.")

    def __str__(self) -> str:
        return f"{self.country} #{self.sequence}"
